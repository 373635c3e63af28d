/**
 * Login latency: K concurrent clients (BENCH_LOGIN_CLIENTS, default 8), each with its
 * own account, looping for a fixed time (BENCH_LOGIN_SECONDS, default 10 per protocol)
 * over connect → LOGIN (IMAP) or USER/PASS (POP3) → LOGOUT/QUIT. Only the login
 * command is timed. The first login of each client is reported apart ("cold": no
 * cached verification yet); the rest are "warm", as a mail client that reconnects.
 *
 * Runs against Mailroom (the built binary) and then Dovecot when installed (its bench
 * passdb is scheme=PLAIN, so Dovecot hashes nothing: a floor, not a like-for-like).
 * BENCH_MAILROOM_ENV="MAILROOM_AUTH_CACHE_SIZE=0,…" passes settings to Mailroom
 * (also read by the pop3 workload), e.g. to measure the hash threads without the cache.
 */
import { runCli, startServer } from '../test/harness/server.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { RawImapClient, quoted } from './imap-raw-client.js';
import { RawPop3Client } from './pop3-raw-client.js';

const PASSWORD = 'bench-password';
/** Separate accounts per protocol, so each protocol's first logins are really cold. */
const userOf = (protocol: 'imap' | 'pop3', i: number) => `${protocol}${i}@bench.test`;

export interface LatencySummary {
  count: number;
  median: number;
  mean: number;
  p99: number;
}

export interface LoginTargetResult {
  server: string;
  clients: number;
  /** Per protocol: first login of each client, later logins, and failures (NO / -ERR). */
  imap: { cold: LatencySummary; warm: LatencySummary; failures: number };
  pop3: { cold: LatencySummary; warm: LatencySummary; failures: number } | { skipped: string };
}

/** `BENCH_MAILROOM_ENV` as an env object for startServer. */
export function benchMailroomEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (process.env.BENCH_MAILROOM_ENV ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return env;
}

/** BENCH_NODE_ARGS (space-separated), node options for the Mailroom server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
export function benchNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

export function summarize(list: number[]): LatencySummary {
  const s = [...list].sort((a, b) => a - b);
  if (s.length === 0) return { count: 0, median: 0, mean: 0, p99: 0 };
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(s.length * q))];
  return { count: s.length, median: round(at(0.5)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), p99: round(at(0.99)) };
}

type Attempt = (user: string) => Promise<{ ms: number; ok: boolean }>;

function imapAttempt(port: number): Attempt {
  return async (user) => {
    const { client } = await RawImapClient.connect(port);
    try {
      const t0 = performance.now();
      const reply = await client.command(`LOGIN ${quoted(user)} ${quoted(PASSWORD)}`);
      return { ms: performance.now() - t0, ok: reply.status === 'OK' };
    } finally {
      await client.close();
    }
  };
}

function pop3Attempt(port: number): Attempt {
  return async (user) => {
    const c = await RawPop3Client.connect(port);
    try {
      const t0 = performance.now();
      const u = await c.command(`USER ${user}`);
      const p = u.ok ? await c.command(`PASS ${PASSWORD}`) : u;
      const ms = performance.now() - t0;
      if (p.ok) await c.command('QUIT'); // releases the maildrop lock before the next session
      return { ms, ok: p.ok };
    } finally {
      c.close();
    }
  };
}

async function loop(protocol: 'imap' | 'pop3', attempt: Attempt, clients: number, seconds: number) {
  const cold: number[] = [];
  const warm: number[] = [];
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      for (let n = 0; n === 0 || Date.now() < until; n++) {
        const r = await attempt(userOf(protocol, i));
        if (!r.ok) failures++;
        (n === 0 ? cold : warm).push(r.ms);
      }
    }),
  );
  return { cold: summarize(cold), warm: summarize(warm), failures };
}

async function benchMailroom(clients: number, seconds: number): Promise<LoginTargetResult> {
  const s = await startServer({ env: benchMailroomEnv() });
  try {
    for (const protocol of ['imap', 'pop3'] as const) {
      for (let i = 0; i < clients; i++) {
        const r = await runCli(['user', 'add', userOf(protocol, i), '--password', PASSWORD], { dataDir: s.dataDir });
        if (r.code !== 0) throw new Error(`user add: ${r.stderr.trim()}`);
      }
    }
    process.stderr.write(`  mailroom: ${clients} clients, IMAP LOGIN for ${seconds} s…\n`);
    const imap = await loop('imap', imapAttempt(s.ports.imap!), clients, seconds);
    process.stderr.write(`  mailroom: ${clients} clients, POP3 USER/PASS for ${seconds} s…\n`);
    const pop3 = await loop('pop3', pop3Attempt(s.ports.pop3!), clients, seconds);
    return { server: 'mailroom', clients, imap, pop3 };
  } finally {
    await s.stop();
  }
}

async function benchDovecot(clients: number, seconds: number): Promise<LoginTargetResult> {
  const users = (['imap', 'pop3'] as const).flatMap((protocol) => Array.from({ length: clients }, (_, i) => ({ user: userOf(protocol, i), password: PASSWORD })));
  const d = await startDovecot(users, { pop3: true });
  try {
    process.stderr.write(`  dovecot: ${clients} clients, IMAP LOGIN and POP3 USER/PASS for ${seconds} s each…\n`);
    const imap = await loop('imap', imapAttempt(d.port), clients, seconds);
    const pop3 = d.pop3Port ? await loop('pop3', pop3Attempt(d.pop3Port), clients, seconds) : { skipped: 'dovecot-pop3d not installed' };
    return { server: `dovecot ${d.version}`, clients, imap, pop3 };
  } finally {
    await d.stop();
  }
}

export async function benchLogin(): Promise<{ mailroomEnv: Record<string, string>; mailroom: LoginTargetResult | { error: string }; dovecot: LoginTargetResult | { skipped: string } | { error: string } }> {
  const clients = Math.min(64, Number(process.env.BENCH_LOGIN_CLIENTS ?? 8));
  const seconds = Math.min(120, Number(process.env.BENCH_LOGIN_SECONDS ?? 10));
  let mailroom: LoginTargetResult | { error: string };
  try {
    mailroom = await benchMailroom(clients, seconds);
  } catch (err) {
    mailroom = { error: (err as Error).message };
  }
  let dovecot: LoginTargetResult | { skipped: string } | { error: string } = { skipped: dovecotVersion() ? 'BENCH_LOGIN_DOVECOT=0' : 'dovecot is not installed here' };
  if (dovecotVersion() && process.env.BENCH_LOGIN_DOVECOT !== '0') {
    try {
      dovecot = await benchDovecot(clients, seconds);
    } catch (err) {
      dovecot = { error: (err as Error).message };
    }
  }
  return { mailroomEnv: benchMailroomEnv(), mailroom, dovecot };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
