/**
 * LMTP straight in: BENCH_LMTP_MESSAGES (default 2000) messages of ~10 KB over
 * BENCH_LMTP_CLIENTS (default 10) connections, LHLO + pipelined MAIL/RCPT/DATA, one
 * recipient each; counted: 250 after DATA, which both servers give only once the
 * message is in the mailbox. Mailroom's LMTP listener (the built binary, SQLite) against
 * Dovecot's lmtp (private instance, maildir, `mail_fsync = optimized`), same client,
 * same run. Also the helpers the `pg-delivery` workload reuses (a server per node).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServer, type RunningTestServer } from '../test/harness/server.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { benchNodeArgs } from './login.js';
import { load, message, summary, type SmtpTargetResult } from './smtp-load.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

export interface LmtpBenchResult {
  clients: number;
  messages: number;
  messageBytes: number;
  mailroom: SmtpTargetResult | { error: string };
  dovecot: SmtpTargetResult | { skipped: string } | { error: string };
  /** Mailroom accepted/s ÷ Dovecot accepted/s. */
  ratio?: number;
}

/** ~10 KB messages, one per send (each its own Message-ID: a repeated one is a re-send, stored once). */
export function lmtpMessages(total: number): Buffer[] {
  return Array.from({ length: total }, (_, i) => message(i, 10_000));
}

/**
 * `nodes` Mailroom servers on one store (SQLite: one node; PostgreSQL: `databaseUrl`
 * shared), only LMTP listening, with `users` created; `fn` gets the LMTP ports.
 */
export async function withLmtpNodes<T>(nodes: number, users: string[], databaseUrl: string | undefined, fn: (ports: number[], servers: RunningTestServer[]) => Promise<T>): Promise<T> {
  const env: Record<string, string> = { MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off', MAILROOM_SMTP: 'off', MAILROOM_SUBMISSION: 'off', MAILROOM_SUBMISSIONS: 'off', MAILROOM_HTTP: 'off' };
  if (databaseUrl) env.MAILROOM_DATABASE_URL = databaseUrl;
  const servers: RunningTestServer[] = [];
  try {
    for (let i = 0; i < nodes; i++) servers.push(await startServer({ env, nodeArgs: benchNodeArgs() }));
    for (const u of users) {
      const added = await runCli(['user', 'add', u, '--password', PASSWORD], { dataDir: servers[0].dataDir, env: databaseUrl ? { MAILROOM_DATABASE_URL: databaseUrl } : {} });
      if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    }
    return await fn(servers.map((s) => s.ports.lmtp!), servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function benchMailroom(clients: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  return withLmtpNodes(1, [USER], undefined, async ([port]) => {
    const r = await load(port, clients, messages.length, messages, 'LHLO', () => USER);
    return { server: 'mailroom', ...summary(r), delivered: r.accepted, endToEndPerSecond: summary(r).acceptedPerSecond };
  });
}

async function benchDovecot(clients: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  const d = await startDovecot([{ user: USER, password: PASSWORD }], { lmtp: true });
  try {
    const r = await load(d.lmtpPort!, clients, messages.length, messages, 'LHLO', () => USER);
    const maildir = join(d.home(USER), 'Maildir');
    const delivered = ['new', 'cur'].reduce((n, sub) => n + safeCount(join(maildir, sub)), 0);
    return { server: `dovecot ${d.version} lmtp`, ...summary(r), delivered, endToEndPerSecond: summary(r).acceptedPerSecond };
  } finally {
    await d.stop();
  }
}

function safeCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

export async function benchLmtp(): Promise<LmtpBenchResult> {
  const clients = Number(process.env.BENCH_LMTP_CLIENTS ?? 10);
  const total = Number(process.env.BENCH_LMTP_MESSAGES ?? 2000);
  const messages = lmtpMessages(total);
  const messageBytes = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  const result: LmtpBenchResult = { clients, messages: total, messageBytes, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' } };
  process.stderr.write(`  lmtp: mailroom, ${total} × ${messageBytes} B over ${clients} connections…\n`);
  try {
    result.mailroom = await benchMailroom(clients, messages);
  } catch (err) {
    result.mailroom = { error: (err as Error).message };
  }
  if (!dovecotVersion()) result.dovecot = { skipped: 'dovecot is not installed (apt-get install -y dovecot-lmtpd)' };
  else {
    process.stderr.write('  lmtp: dovecot…\n');
    try {
      result.dovecot = await benchDovecot(clients, messages);
    } catch (err) {
      result.dovecot = { error: (err as Error).message };
    }
  }
  if ('acceptedPerSecond' in result.mailroom && 'acceptedPerSecond' in result.dovecot) {
    result.ratio = Math.round((result.mailroom.acceptedPerSecond / result.dovecot.acceptedPerSecond) * 100) / 100;
    process.stderr.write(`  lmtp: mailroom ${result.mailroom.acceptedPerSecond} msg/s, dovecot ${result.dovecot.acceptedPerSecond} msg/s, ratio ${result.ratio}\n`);
  }
  return result;
}
