/** Raw IMAP transcript helpers over the test harness: start a server with a user, send tagged commands, read to the tagged reply. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Transcript } from '../harness/transcript.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

export const USER = 'alice@example.test';
export const PASS = 'secret-pw';

export async function startImapServer(env: Record<string, string> = {}): Promise<RunningTestServer> {
  const server = await startServer({ env });
  const r = await runCli(['user', 'add', USER, '--password', PASS], { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`user add failed: ${r.stderr}`);
  return server;
}

/** Delivers a message to a user with `mailroom deliver` (another process). */
export async function deliver(server: RunningTestServer, raw: string | Buffer, to = USER): Promise<void> {
  const file = join(server.dataDir, '..', `msg-${Date.now()}-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(file, raw);
  const r = await runCli(['deliver', '--to', to, file], { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`deliver failed: ${r.stderr}`);
}

export function message(subject: string, body = 'hello world'): string {
  return `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: ${subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${body}\r\n`;
}

let counter = 0;

/** One IMAP connection with tag bookkeeping. */
export class Imap {
  constructor(readonly t: Transcript) {}

  static async open(port: number, opts: { tls?: boolean; login?: boolean } = {}): Promise<Imap> {
    const t = await connect(port, { tls: opts.tls, timeoutMs: 20_000 });
    const c = new Imap(t);
    await t.readLine();
    if (opts.login !== false) await c.ok(`LOGIN ${USER} ${PASS}`);
    return c;
  }

  /** Sends `tag command` and returns everything up to and including the tagged reply. */
  async cmd(command: string): Promise<{ text: string; status: string; tagged: string }> {
    const tag = `t${++counter}`;
    this.t.send(`${tag} ${command}\r\n`);
    return this.readTagged(tag);
  }

  async readTagged(tag: string): Promise<{ text: string; status: string; tagged: string }> {
    const text = await this.t.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
    const m = new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)([^\\r\\n]*)\\r\\n$`).exec(text);
    return { text, status: m?.[1] ?? '?', tagged: `${m?.[1]}${m?.[2]}` };
  }

  /** Like cmd but requires OK. */
  async ok(command: string): Promise<string> {
    const r = await this.cmd(command);
    if (r.status !== 'OK') throw new Error(`${command} → ${r.text}`);
    return r.text;
  }

  nextTag(): string {
    return `t${++counter}`;
  }

  close(): void {
    this.t.close();
  }
}
