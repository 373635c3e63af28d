/** Helpers of the sharing tests (acl.test.ts, acl-walk.test.ts): a server with alice, bob and carol, logins, APPEND. */
import assert from 'node:assert/strict';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { Imap } from './client.js';

export const PASS = 'secret-pw';
export const USERS = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

export async function startSharingServer(): Promise<RunningTestServer> {
  const server = await startServer();
  for (const u of USERS) {
    const r = await runCli(['user', 'add', u, '--password', PASS], { dataDir: server.dataDir });
    if (r.code !== 0) throw new Error(`user add failed: ${r.stderr}`);
  }
  return server;
}

export async function login(port: number, user: string): Promise<Imap> {
  const c = await Imap.open(port, { login: false });
  await c.ok(`LOGIN ${user} ${PASS}`);
  return c;
}

/** APPENDs a small message (no flags) to a mailbox of the logged-in user. */
export async function appendTo(c: Imap, mailbox: string, subject: string): Promise<void> {
  const msg = `From: x@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@example.net>\r\n\r\nbody of ${subject}\r\n`;
  c.t.send(`ap APPEND ${mailbox} {${Buffer.byteLength(msg)}+}\r\n${msg}\r\n`);
  const r = await c.readTagged('ap');
  assert.equal(r.status, 'OK', r.text);
}

