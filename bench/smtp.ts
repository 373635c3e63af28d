/**
 * SMTP MX load: C concurrent connections (BENCH_SMTP_CLIENTS, default 10) send
 * BENCH_SMTP_MESSAGES messages (default 2000, ~10 KB of text each, one recipient)
 * with PIPELINING (MAIL+RCPT+DATA in one write), counting 250s after DATA.
 * BENCH_SMTP_ROUNDS (default 3) rounds, the two targets in turn (A B A B); the figures
 * reported are the round with the median accepted ratio, and every round's are kept.
 *
 * Same run, same client, two targets:
 * - Mailroom's MX (the built binary, temp data dir, DNS answers from an empty file:
 *   SPF/DKIM/DMARC run but never touch the network); its 250 means "in the INBOX".
 * - Postfix (private instance, loopback) handing mail to a private Dovecot over LMTP;
 *   Postfix's 250 means "in Postfix's queue", so the end-to-end rate (until every
 *   message is in the Dovecot Maildir) is reported too.
 * Reports messages/s of both, the ratios, and each side's CPU per message (its process
 * trees, from /proc: Mailroom during the load; Postfix and Dovecot until the last message
 * is in the Maildir). Loopback only; bounded in count and time.
 *
 * LMTP straight in (BENCH_LMTP_MESSAGES, default 2000, of ~10 KB, over BENCH_LMTP_CLIENTS,
 * default 10, connections): Mailroom's LMTP listener against Dovecot's lmtp, the same
 * client; both answer 250 once the message is in the mailbox.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, runCli, tempDirs } from '../test/harness/server.js';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { benchLmtp, type LmtpBenchResult } from './lmtp.js';
import { load, message, round, summary, type SmtpTargetResult } from './smtp-load.js';
import { postfixVersion, startPostfix } from './postfix.js';
import { cpuMsPer, treeCpuSeconds, treesCpuSeconds } from './process-cpu.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

export interface SmtpBenchResult {
  clients: number;
  messages: number;
  messageBytes: number;
  mailroom: SmtpTargetResult | { error: string };
  postfixDovecot: SmtpTargetResult | { skipped: string } | { error: string };
  /** Mailroom accepted/s ÷ Postfix accepted/s (Postfix's 250 is only "queued"). */
  ratioAccepted?: number;
  /** Mailroom ÷ Postfix+Dovecot, both measured until the messages are in the mailbox. */
  ratioEndToEnd?: number;
  rounds: { ratioAccepted?: number; ratioEndToEnd?: number; mailroomCpuMsPerMessage?: number; postfixDovecotCpuMsPerMessage?: number }[];
  /** LMTP straight in: Mailroom against Dovecot's lmtp (bench/lmtp.ts). */
  lmtp?: LmtpBenchResult;
}

async function waitFor(count: () => Promise<number> | number, want: number, timeoutMs: number): Promise<{ found: number; at: number }> {
  const deadline = performance.now() + timeoutMs;
  let found = await count();
  while (found < want && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = await count();
  }
  return { found, at: performance.now() };
}

async function benchMailroom(clients: number, total: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  const { dir } = tempDirs();
  const dnsFile = join(dir, 'dns.json');
  writeFileSync(dnsFile, '{}');
  const s = await startServer({ env: { MAILROOM_SMTP_DNS_FILE: dnsFile, MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off' } });
  try {
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: s.dataDir });
    if (added.code !== 0) throw new Error(added.stderr.trim());
    const cpu0 = treeCpuSeconds(s.pid);
    const r = await load(s.ports.smtp!, clients, total, messages);
    const cpuMsPerMessage = cpuMsPer(cpu0, treeCpuSeconds(s.pid), r.accepted);
    const store = await openStore({ dataDir: s.dataDir, bus: new LocalChangeBus() });
    try {
      const user = (await store.getUser(USER))!;
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const delivered = (await store.listMessages(inbox.id, user.id)).length;
      return { server: 'mailroom', ...summary(r), delivered, endToEndPerSecond: round(delivered / r.seconds), cpuMsPerMessage };
    } finally {
      await store.close();
    }
  } finally {
    await s.stop();
  }
}

async function benchPostfix(clients: number, total: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  const dovecot = await startDovecot([{ user: USER, password: PASSWORD }], { lmtp: true });
  try {
    const postfix = await startPostfix('bench.test', dovecot.lmtpPort!);
    try {
      const pids = [postfix.pid(), dovecot.pid];
      const cpu0 = treesCpuSeconds(pids);
      const r = await load(postfix.port, clients, total, messages);
      const maildir = join(dovecot.home(USER), 'Maildir');
      const count = () => ['new', 'cur'].reduce((n, sub) => n + safeCount(join(maildir, sub)), 0);
      const { found, at } = await waitFor(count, r.accepted, 180_000);
      const cpuMsPerMessage = cpuMsPer(cpu0, treesCpuSeconds(pids), found);
      const e2e = (at - r.started) / 1000;
      return { server: `postfix ${postfix.version} → dovecot ${dovecot.version} (LMTP)`, ...summary(r), delivered: found, endToEndPerSecond: round(found / e2e), cpuMsPerMessage };
    } finally {
      await postfix.stop();
    }
  } finally {
    await dovecot.stop();
  }
}

function safeCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

export async function benchSmtp(): Promise<SmtpBenchResult> {
  const clients = Number(process.env.BENCH_SMTP_CLIENTS ?? 10);
  const total = Number(process.env.BENCH_SMTP_MESSAGES ?? 2000);
  const rounds = Math.max(1, Math.min(10, Number(process.env.BENCH_SMTP_ROUNDS ?? 3)));
  // One message per send, each with its own Message-ID: a repeated one would be taken for a re-send and stored once (resend_window_s).
  const messages = Array.from({ length: total }, (_, i) => message(i, 10_000));
  const messageBytes = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  const result: SmtpBenchResult = { clients, messages: total, messageBytes, mailroom: { error: 'not run' }, postfixDovecot: { skipped: 'not run' }, rounds: [] };
  const kept: Pick<SmtpBenchResult, 'mailroom' | 'postfixDovecot' | 'ratioAccepted' | 'ratioEndToEnd'>[] = [];
  for (let i = 0; i < rounds; i++) {
    const one: (typeof kept)[number] = { mailroom: { error: 'not run' }, postfixDovecot: { skipped: 'not run' } };
    try {
      one.mailroom = await benchMailroom(clients, total, messages);
    } catch (err) {
      one.mailroom = { error: (err as Error).message };
    }
    if (!postfixVersion() || !dovecotVersion()) one.postfixDovecot = { skipped: 'postfix or dovecot not installed (apt-get install -y postfix dovecot-lmtpd)' };
    else if (process.getuid?.() !== 0) one.postfixDovecot = { skipped: 'a private Postfix needs root' };
    else {
      try {
        one.postfixDovecot = await benchPostfix(clients, total, messages);
      } catch (err) {
        one.postfixDovecot = { error: (err as Error).message };
      }
    }
    const m = one.mailroom;
    const p = one.postfixDovecot;
    if ('acceptedPerSecond' in m && 'acceptedPerSecond' in p) {
      one.ratioAccepted = Math.round((m.acceptedPerSecond / p.acceptedPerSecond) * 100) / 100;
      one.ratioEndToEnd = Math.round((m.endToEndPerSecond / p.endToEndPerSecond) * 100) / 100;
    }
    kept.push(one);
    result.rounds.push({
      ratioAccepted: one.ratioAccepted,
      ratioEndToEnd: one.ratioEndToEnd,
      mailroomCpuMsPerMessage: 'cpuMsPerMessage' in m ? m.cpuMsPerMessage : undefined,
      postfixDovecotCpuMsPerMessage: 'cpuMsPerMessage' in p ? p.cpuMsPerMessage : undefined,
    });
    process.stderr.write(`  smtp round ${i + 1}/${rounds}: ${JSON.stringify(result.rounds[i])}\n`);
  }
  const withRatio = kept.filter((k) => k.ratioAccepted !== undefined).sort((a, b) => a.ratioAccepted! - b.ratioAccepted!);
  Object.assign(result, withRatio.length > 0 ? withRatio[Math.floor((withRatio.length - 1) / 2)] : kept[kept.length - 1]);
  if (process.env.BENCH_LMTP !== '0') result.lmtp = await benchLmtp();
  return result;
}
