/**
 * Shared by the test/security/ suite: the server's resident memory, a legitimate IMAP
 * login (what must keep working during an attack), and a user to log in as.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';

export const USER = 'alice@example.test';
export const PASSWORD = 'alice pw';

/** The server's VmRSS in MB. */
export function rssMb(server: RunningTestServer): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  assert.ok(kb, 'VmRSS readable');
  return Number(kb[1]) / 1024;
}

export async function cli(server: RunningTestServer, ...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A normal client: connects, logs in, runs NOOP, logs out; returns how long it took in ms. */
export async function legitimateImap(port: number, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  const t = await connect(port, { timeoutMs });
  try {
    await t.readLine();
    t.send(`l1 LOGIN ${USER} "${PASSWORD}"\r\n`);
    assert.match(await t.readUntil(/(^|\r\n)l1 [^\r\n]*\r\n/), /l1 OK/);
    t.send('l2 SELECT INBOX\r\n');
    assert.match(await t.readUntil(/(^|\r\n)l2 [^\r\n]*\r\n/), /l2 OK/);
    t.send('l3 LOGOUT\r\n');
    await t.readUntil(/l3 OK[^\r\n]*\r\n/);
  } finally {
    t.close();
  }
  return Date.now() - started;
}
