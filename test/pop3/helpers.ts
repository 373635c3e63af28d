/** Shared set-up for the POP3 end-to-end tests: a server, users, deliveries, a POP3 line client. */
import assert from 'node:assert/strict';
import { runCli, type RunningTestServer } from '../harness/server.js';
import { connect, type Transcript } from '../harness/transcript.js';

export async function cli(server: RunningTestServer, args: string[], input?: string): Promise<string> {
  void input;
  const r = await runCli(args, { dataDir: server.dataDir, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Delivers raw bytes to `to` through `mailroom deliver FILE`. */
export async function deliver(server: RunningTestServer, to: string, raw: string | Buffer): Promise<void> {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'pop3-msg-')), 'm.eml');
  writeFileSync(file, raw);
  await cli(server, ['deliver', '--to', to, file]);
}

/** A POP3 conversation over a raw socket. */
export class Pop3Client {
  constructor(readonly t: Transcript) {}

  static async open(port: number, tls = false): Promise<Pop3Client> {
    const c = new Pop3Client(await connect(port, { tls, timeoutMs: 20_000 }));
    assert.match(await c.t.readLine(), /^\+OK /);
    return c;
  }

  async cmd(line: string): Promise<string> {
    this.t.send(line + '\r\n');
    return (await this.t.readLine()).replace(/\r\n$/, '');
  }

  /** Sends a command expecting a multi-line answer; returns the status and the unstuffed lines. */
  async multi(line: string): Promise<{ status: string; lines: string[]; raw: string }> {
    this.t.send(line + '\r\n');
    const status = (await this.t.readLine()).replace(/\r\n$/, '');
    if (!status.startsWith('+OK')) return { status, lines: [], raw: '' };
    return { status, ...(await this.body()) };
  }

  async body(): Promise<{ lines: string[]; raw: string }> {
    const raw = await this.t.readUntil(/(^|\r\n)\.\r\n/);
    const text = raw.replace(/(^|\r\n)\.\r\n$/, '$1');
    const lines = text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l));
    return { lines, raw };
  }

  async login(user: string, pass = 'secret'): Promise<string> {
    assert.equal(await this.cmd(`USER ${user}`), '+OK send PASS');
    return this.cmd(`PASS ${pass}`);
  }
}
