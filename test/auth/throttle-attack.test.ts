/**
 * Password guessing against one account from 10 addresses (127.0.1.1–10, one /24) over real
 * IMAP sockets, while the owner logs in from an address it used before (127.0.0.1): the owner
 * gets in promptly, the guesses are slowed and then refused, and a never-seen address of the
 * attacked network waits even with the right password.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { Transcript } from '../harness/transcript.js';

const OWNER = 'owner@throttle.test';
const PW = 'the right one';

function connectFrom(port: number, localAddress: string): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const t = new Transcript(socket, 60_000);
    socket.once('connect', () => resolve(t));
    socket.once('error', reject);
  });
}

/** One LOGIN on an open session; the tagged answer and how long it took. */
async function login(t: Transcript, tag: string, password: string): Promise<{ answer: string; ms: number }> {
  const start = Date.now();
  t.send(`${tag} LOGIN ${OWNER} "${password}"\r\n`);
  const text = await t.readUntil(new RegExp(`^${tag} .*\\r\\n`, 'm'), 60_000);
  return { answer: text.trim().split('\r\n').pop()!, ms: Date.now() - start };
}

describe('throttle under a distributed guessing attack (IMAP)', () => {
  let server: RunningTestServer;
  let port: number;

  before(async () => {
    server = await startServer();
    port = server.ports.imap!;
    const r = await runCli(['user', 'add', OWNER, '--password', PW], { dataDir: server.dataDir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => server?.stop());

  it('the owner from a known address logs in at once while 10 addresses guess', async () => {
    const home = await connectFrom(port, '127.0.0.1');
    await home.readUntil(/\r\n/);
    assert.match((await login(home, 'h0', PW)).answer, /^h0 OK/); // the address becomes known-good
    home.socket.destroy();

    let stop = false;
    const answers: string[] = [];
    const attackers = Array.from({ length: 10 }, async (_, i) => {
      const t = await connectFrom(port, `127.0.1.${i + 1}`);
      await t.readUntil(/\r\n/);
      for (let n = 0; !stop && n < 40; n++) answers.push((await login(t, `g${n}`, `guess-${i}-${n}`)).answer);
      t.socket.destroy();
    });
    // Let the guesses pile up: past the account's slow-down threshold and the addresses' free failures.
    while (answers.length < 30) await new Promise((r) => setTimeout(r, 50));

    const owner = await connectFrom(port, '127.0.0.1');
    await owner.readUntil(/\r\n/);
    const ok = await login(owner, 'o1', PW);
    owner.socket.destroy();
    assert.match(ok.answer, /^o1 OK/);
    assert.ok(ok.ms < 2_000, `the owner waited ${ok.ms} ms`);

    // A never-seen address of the attacked /24 is slowed even with the right password.
    const stranger = await connectFrom(port, '127.0.1.99');
    await stranger.readUntil(/\r\n/);
    const slow = await login(stranger, 's1', PW);
    stranger.socket.destroy();
    assert.ok(slow.ms >= 2_500 || /UNAVAILABLE/.test(slow.answer), `${slow.answer} after ${slow.ms} ms`);

    stop = true;
    await Promise.all(attackers);
    assert.ok(answers.every((a) => /NO \[(AUTHENTICATIONFAILED|UNAVAILABLE)\]/.test(a)), 'every guess failed');
  });
});
