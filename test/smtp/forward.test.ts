/**
 * Forwarding to remote alias targets through the outbound queue, against the BUILT
 * server routing remote.test to a test sink: `mailroom deliver` (file and stdin) and
 * MX delivery over a real socket (nodemailer). Checks the envelope sender rule of
 * src/mail/forward.ts: a local sender is kept, any other is rewritten to
 * postmaster@<forwarding domain>, the null sender stays null.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { Sink } from '../harness/smtp-sink.js';
import { mainJs } from '../harness/repo-root.js';
import { childEnv, runCli, type CliResult } from '../harness/server.js';
import { startWorld, type World } from './setup.js';

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cliWithStdin(args: string[], dataDir: string, input: Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { env: childEnv(dataDir), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('forwarding to remote alias targets (mailroom serve + queue)', { timeout: 180_000 }, () => {
  const sink = new Sink();
  let w: World;
  const dnsFile = join(tmpdir(), `mailroom-forward-dns-${process.pid}.json`); // no SPF answers: checks end in none, offline
  const arrived = (subject: string) => () => sink.messages.find((m) => m.data.toString().includes(`Subject: ${subject}\r\n`));

  before(async () => {
    await sink.start();
    writeFileSync(dnsFile, '{}');
    w = await startWorld(
      { MAILROOM_QUEUE_ROUTES: `remote.test=127.0.0.1:${sink.port}`, MAILROOM_QUEUE_POLL_MS: '100', MAILROOM_SMTP_DNS_FILE: dnsFile },
      async (store) => {
        await store.addAlias('fwd@example.test', 'friend@remote.test');
        await store.addAlias('fwd@example.test', 'alice@example.test');
        await store.addAlias('away@example.test', 'far@remote.test');
      },
    );
  });
  after(async () => {
    await w?.stop();
    await sink.stop();
    rmSync(dnsFile, { force: true });
  });

  const cli = (...args: string[]) => runCli(args, { dataDir: w.server.dataDir });

  it('mailroom deliver: local copy plus a queued forward; a foreign sender becomes postmaster@ the forwarding domain', async () => {
    const file = join(w.dir, 'fwd1.eml');
    writeFileSync(file, 'From: x@elsewhere.test\r\nTo: fwd@example.test\r\nSubject: cli forward 1\r\n\r\nhello\r\n');
    const r = await cli('deliver', '--to', 'fwd@example.test', '--from', 'x@elsewhere.test', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^delivered to fwd@example\.test: alice@example\.test uid \d+; forwarded to friend@remote\.test \(queued as [A-Za-z0-9]+\)$/m);
    const m = await until('the forward at the sink', arrived('cli forward 1'));
    assert.equal(m.from, 'postmaster@example.test', 'SPF-safe envelope sender');
    assert.deepEqual(m.to, ['friend@remote.test']);
    assert.match(m.data.toString(), /^From: x@elsewhere\.test\r\n/m, 'the header is unchanged');
    assert.ok((await w.messages('alice@example.test')).some((x) => x.text.includes('Subject: cli forward 1')));
  });

  it('mailroom deliver: a local sender is kept; stdin without --from uses postmaster; a remote-only alias stores nothing locally', async () => {
    const file = join(w.dir, 'fwd2.eml');
    writeFileSync(file, 'From: alice@example.test\r\nSubject: cli forward 2\r\n\r\nhi\r\n');
    const r = await cli('deliver', '--to', 'away@example.test', '--from', 'alice@example.test', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^delivered to away@example\.test: forwarded to far@remote\.test \(queued as \w+\)$/m);
    assert.equal((await until('forward 2', arrived('cli forward 2'))).from, 'alice@example.test');
    const s = await cliWithStdin(['deliver', '--to', 'away@example.test'], w.server.dataDir, Buffer.from('Subject: cli forward 3\r\n\r\nstdin\r\n'));
    assert.equal(s.code, 0, s.stderr);
    const m3 = await until('forward 3', arrived('cli forward 3'));
    assert.equal(m3.from, 'postmaster@example.test');
    assert.match(m3.data.toString(), /\r\n\r\nstdin\r\n$/);
  });

  it('MX: mail for a forwarding alias is queued with the rewritten sender; the null sender stays null', async () => {
    const port = w.server.ports.smtp!;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, tls: { rejectUnauthorized: false }, name: 'client.test' });
    try {
      const info = await transport.sendMail({ envelope: { from: 'news@elsewhere.test', to: ['fwd@example.test'] }, raw: 'From: news@elsewhere.test\r\nTo: fwd@example.test\r\nSubject: mx forward\r\n\r\nvia mx\r\n' });
      assert.match(info.response, /^250 /);
      const m = await until('the MX forward', arrived('mx forward'));
      assert.equal(m.from, 'postmaster@example.test');
      assert.deepEqual(m.to, ['friend@remote.test']);
      assert.match(m.data.toString(), /^Received: from client\.test/m, 'forwarded with our trace field');
      await transport.sendMail({ envelope: { from: '', to: ['away@example.test'] }, raw: 'From: MAILER-DAEMON@elsewhere.test\r\nSubject: mx bounce forward\r\n\r\nbounce\r\n' });
      assert.equal((await until('the forwarded bounce', arrived('mx bounce forward'))).from, '', 'a bounce is forwarded as a bounce');
    } finally {
      transport.close();
    }
  });
});
