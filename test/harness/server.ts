/**
 * Starts the BUILT server (`node dist/src/main.js serve`) in a temp directory with
 * every listener on 127.0.0.1:0, learns the ports from its "listening" log lines,
 * and stops it. Also runs one-shot CLI commands. Tests speak to it over real sockets.
 *
 * The child's environment is the parent's minus every MAILROOM_* variable (except
 * MAILROOM_DEBUG), plus what the test passes, so a developer's shell cannot leak in;
 * new-login notices are off unless the test turns them on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mainJs } from './repo-root.js';

export const LISTENERS = ['imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'submission', 'submissions', 'lmtp', 'http'] as const;
export type Listener = (typeof LISTENERS)[number];

export interface StartOptions {
  /** Extra or overriding environment (e.g. MAILROOM_IMAP=off, MAILROOM_LOG_TRACE=1). */
  env?: Record<string, string>;
  /** Written to <dir>/mailroom.toml and passed with --config. Env wins, so listeners stay on port 0. */
  configToml?: string;
  /** Reuse a data directory (e.g. to restart on the same data). */
  dataDir?: string;
  /** Extra arguments after `serve` (e.g. ['--data', dir]). */
  args?: string[];
  /** How long to wait for "ready"; default 20 s. */
  timeoutMs?: number;
  /** Node options before the script (e.g. ['--cpu-prof'] to profile a bench run; not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface RunningTestServer {
  dataDir: string;
  /** The server process's id (e.g. to sample its memory from /proc/<pid>/status). */
  pid: number;
  /** Port of each listener that is on. */
  ports: Partial<Record<Listener, number>>;
  /** Parsed JSON stdout lines so far (non-JSON lines appear as { raw }). */
  stdout: LogLine[];
  stderr: () => string;
  /** Sends the signal (default SIGTERM) and resolves when the process exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Resolves with the first log line (past or future) matching pred. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** A clean environment for the child, with every listener on port 0 unless overridden. */
export function childEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MAILROOM_') || k === 'MAILROOM_DEBUG') env[k] = v;
  env.MAILROOM_DATA = dataDir;
  for (const name of LISTENERS) env[`MAILROOM_${name.toUpperCase()}`] = '127.0.0.1:0';
  // A new-login notice lands in INBOX and would change what every other test sees there;
  // the tests of the notice turn it on (test/people/new-login-notice.test.ts).
  env.MAILROOM_AUTH_NEW_LOGIN_NOTICE = 'false';
  return { ...env, ...extra };
}

/** A fresh temp directory with a `data` subdirectory; returns both. */
export function tempDirs(): { dir: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-test-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  return { dir, dataDir };
}

/** Starts the server and resolves once it logged "ready"; rejects with its stderr if it exits first. */
export async function startServer(options: StartOptions = {}): Promise<RunningTestServer> {
  const { dir, dataDir: freshData } = tempDirs();
  const dataDir = options.dataDir ?? freshData;
  const args = [...(options.nodeArgs ?? []), mainJs, 'serve'];
  if (options.configToml !== undefined) {
    writeFileSync(join(dir, 'mailroom.toml'), options.configToml);
    args.push('--config', join(dir, 'mailroom.toml'));
  }
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, { cwd: dir, env: childEnv(dataDir, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: LogLine[] = [];
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (text) => {
    stdout.push(parseLine(text));
    for (const w of watchers) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of watchers) w();
      resolve({ code, signal });
    }),
  );

  const waitForLog = (pred: (line: LogLine) => boolean, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = stdout.find(pred);
        if (found) return done(() => resolve(found));
        if (child.exitCode !== null || child.signalCode !== null) {
          done(() => reject(new Error(`server exited (${child.exitCode ?? child.signalCode}) before the log line; stderr: ${stderr.trim()}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timeout waiting for a log line; stderr: ${stderr.trim()}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        watchers.delete(check);
        fn();
      };
      watchers.add(check);
      check();
    });

  try {
    await waitForLog((l) => l.msg === 'ready', options.timeoutMs ?? 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const ports: Partial<Record<Listener, number>> = {};
  for (const line of stdout) {
    if (line.msg === 'listening') ports[line.listener as Listener] = Number(String(line.address).split(':').pop());
  }
  return {
    dataDir,
    pid: child.pid!,
    ports,
    stdout,
    stderr: () => stderr,
    waitForLog,
    stop: (signal = 'SIGTERM') => stopChild(child, exited, signal),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, signal: NodeJS.Signals) {
  const started = Date.now();
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const result = await exited;
  clearTimeout(killer);
  return { ...result, ms: Date.now() - started };
}

function parseLine(text: string): LogLine {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as LogLine) : { raw: text };
  } catch {
    return { raw: text };
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/src/main.js ...args` with MAILROOM_DATA=dataDir (and listeners on
 * port 0), cwd = dataDir's parent. Killed after timeoutMs (default 30 s).
 */
export function runCli(args: string[], options: { dataDir: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], {
      cwd: options.cwd ?? join(options.dataDir, '..'),
      env: childEnv(options.dataDir, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
