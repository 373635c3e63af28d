/**
 * One running server (the built binary) and the CLI on its data directory, for the tests
 * of "one account, several people and devices": accounts, members, device passwords
 * (taken from the last stdout line of `device add`, as a script would), deliveries, and
 * the python3 clients of ./py/clients.py.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { runCli, startServer, type CliResult, type RunningTestServer, type StartOptions } from '../harness/server.js';

const script = join(repoRoot, 'test', 'people', 'py', 'clients.py');

export interface PyResult {
  ok: boolean;
  error?: string;
  flags?: Record<string, string[]>;
  unseen?: number;
  messages?: number;
  expunged?: number[];
  count?: number;
}

export class PeopleFixture {
  private n = 0;
  private readonly tmp = mkdtempSync(join(tmpdir(), 'mailroom-people-'));

  private constructor(readonly server: RunningTestServer) {}

  static async start(options: StartOptions = {}): Promise<PeopleFixture> {
    return new PeopleFixture(await startServer(options));
  }

  get port(): { imap: number; pop3: number; submission: number } {
    const p = this.server.ports;
    return { imap: p.imap!, pop3: p.pop3!, submission: p.submission! };
  }

  cli(...args: string[]): Promise<CliResult> {
    return runCli(args, { dataDir: this.server.dataDir });
  }

  /** Runs the CLI and fails with its stderr unless it exits 0. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.cli(...args);
    if (r.code !== 0) throw new Error(`mailroom ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** A device password: `device add`, last line of stdout. */
  async device(account: string, member: string, name: string): Promise<string> {
    const out = await this.ok('device', 'add', account, '--member', member, '--name', name);
    return out.trimEnd().split('\n').pop()!;
  }

  async deliver(to: string, subject: string): Promise<void> {
    const file = join(this.tmp, `m${++this.n}.eml`);
    writeFileSync(file, `From: sender@example.net\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <m${this.n}.${Date.now()}@example.net>\r\n\r\nbody ${this.n}\r\n`);
    await this.ok('deliver', '--to', to, file);
  }

  py(action: string, port: number, user: string, pass: string, ...rest: string[]): Promise<PyResult> {
    return new Promise((resolve, reject) => {
      execFile('python3', [script, action, '127.0.0.1', String(port), user, pass, ...rest], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`clients.py ${action} failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
        resolve(JSON.parse(stdout) as PyResult);
      });
    });
  }

  stop(): Promise<unknown> {
    return this.server.stop();
  }
}
