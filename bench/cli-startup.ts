/**
 * CLI start-up: wall time of `mailroom --help`, `user add` and `user list` (against a
 * data directory with BENCH_CLI_USERS users, default 50), each run BENCH_CLI_RUNS times
 * (default 10) as separate processes, the way a person or a script runs them. Reports
 * median and p90 in milliseconds, and the process's CPU time (user + system), which a busy
 * machine disturbs less than wall time. The target is a median under 200 ms on an idle
 * machine. Also times `user add --from-file` of BENCH_CLI_USERS users in one call.
 *
 * `user add` hashes a password (scrypt N=2^15 plus the SCRAM keys): that cost is a security
 * setting, not start-up, so it is timed on its own line too (`passwordHash`, the same
 * passwordHashes() the command runs, in this process). The command computes it while it
 * loads its modules, so `user add` is not `passwordHash` plus the rest.
 *
 * Each round runs every command once, in turn, and `node -e 0` (node starting and exiting,
 * the floor under any command; the peer column of the report), so a change in the machine's
 * load touches all of them alike; BENCH_CLI_RUNS rounds (default 15). BENCH_CLI_BEFORE=path
 * of another build's dist/src/main.js (e.g. a copy of main's) adds its commands to each
 * round, for before/after figures from one run (`before` in the JSON). The load average at
 * the start and the end is in the JSON too.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { childEnv, tempDirs } from '../test/harness/server.js';
import { mainJs } from '../test/harness/repo-root.js';
import { passwordHashes } from '../src/mail/accounts.js';

/** Preloaded into each child: prints its own CPU time (user + system, µs) on stderr at exit. */
const CPU_REPORT = `data:text/javascript,process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\nmailroom-bench-cpu-us ' + (u.user + u.system) + '\\n'); });`;

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Runs node with args (main.js and its arguments, or `-e 0`); rejects on a non-zero exit. */
function timed(args: string[], dataDir: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', CPU_REPORT, ...args], { env: childEnv(dataDir), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      const cpu = /\nmailroom-bench-cpu-us (\d+)\n$/.exec(stderr);
      resolve({ wallMs, cpuMs: cpu ? Number(cpu[1]) / 1000 : NaN });
    });
  });
}

function summary(values: number[]): { median: number; p90: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
  return { median: at(0.5), p90: at(0.9) };
}

const load = () => loadavg().map((l) => Math.round(l * 10) / 10);

function summarise(t: Timing[]): object {
  return { wallMs: summary(t.map((x) => x.wallMs)), cpuMs: summary(t.map((x) => x.cpuMs)) };
}

export async function benchCliStartup(): Promise<object> {
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 15);
  const users = Number(process.env.BENCH_CLI_USERS ?? 50);
  const before = process.env.BENCH_CLI_BEFORE;
  const loadAtStart = load();
  const { dir, dataDir } = tempDirs();
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, Array.from({ length: users }, (_, i) => `bulk${i}@bench.test,password-${i}`).join('\n') + '\n');
  const bulk = await timed([mainJs, 'user', 'add', '--from-file', csv], dataDir);
  /** Arguments of each command in round i, for the build named `build` ('' for this one). */
  const commands: Record<string, (i: number, build: string) => string[]> = {
    help: () => ['--help'],
    'user add': (i, build) => ['user', 'add', `${build}one${i}@bench.test`, '--password', 'bench-password'],
    'user list': () => ['user', 'list'],
  };
  const builds: [string, string][] = [['', mainJs], ...(before ? ([['before', before]] as [string, string][]) : [])];
  const times = new Map<string, Timing[]>();
  const add = (key: string, t: Timing) => times.set(key, [...(times.get(key) ?? []), t]);
  for (let i = 0; i < runs; i++) {
    add('node -e 0', await timed(['-e', '0'], dataDir));
    for (const [name, args] of Object.entries(commands)) {
      for (const [build, main] of builds) add(`${build}|${name}`, await timed([main, ...args(i, build)], dataDir));
    }
  }
  const out: Record<string, object> = { nodeBare: summarise(times.get('node -e 0')!) };
  for (const name of Object.keys(commands)) out[name] = summarise(times.get(`|${name}`)!);
  if (before) out.before = { main: before, ...Object.fromEntries(Object.keys(commands).map((name) => [name, summarise(times.get(`before|${name}`)!)])) };
  const hashes: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const [cpu0, t0] = [process.cpuUsage(), performance.now()];
    await passwordHashes(`bench-password-${i}`);
    const cpu = process.cpuUsage(cpu0); // the libuv threads that run the hash count too
    hashes.push({ wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  out.passwordHash = summarise(hashes);
  rmSync(dir, { recursive: true, force: true });
  return { runs, users, loadAverage: { start: loadAtStart, end: load() }, ...out, fromFile: { users, wallMs: Math.round(bulk.wallMs), perUserMs: Math.round((bulk.wallMs / users) * 10) / 10 } };
}
