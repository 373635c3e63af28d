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
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

/** Runs node main.js with args; rejects on a non-zero exit. CPU time from the child's resource usage. */
function timed(args: string[], dataDir: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', CPU_REPORT, mainJs, ...args], { env: childEnv(dataDir), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`mailroom ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
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

export async function benchCliStartup(): Promise<object> {
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 10);
  const users = Number(process.env.BENCH_CLI_USERS ?? 50);
  const { dir, dataDir } = tempDirs();
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, Array.from({ length: users }, (_, i) => `bulk${i}@bench.test,password-${i}`).join('\n') + '\n');
  const bulk = await timed(['user', 'add', '--from-file', csv], dataDir);
  const commands: Record<string, (i: number) => string[]> = {
    help: () => ['--help'],
    'user add': (i) => ['user', 'add', `one${i}@bench.test`, '--password', 'bench-password'],
    'user list': () => ['user', 'list'],
  };
  const out: Record<string, object> = {};
  for (const [name, args] of Object.entries(commands)) {
    const t: Timing[] = [];
    for (let i = 0; i < runs; i++) t.push(await timed(args(i), dataDir));
    out[name] = { wallMs: summary(t.map((x) => x.wallMs)), cpuMs: summary(t.map((x) => x.cpuMs)) };
  }
  const hashes: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const [cpu0, t0] = [process.cpuUsage(), performance.now()];
    await passwordHashes(`bench-password-${i}`);
    const cpu = process.cpuUsage(cpu0); // the libuv threads that run the hash count too
    hashes.push({ wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  out.passwordHash = { wallMs: summary(hashes.map((x) => x.wallMs)), cpuMs: summary(hashes.map((x) => x.cpuMs)) };
  return { runs, users, ...out, fromFile: { users, wallMs: Math.round(bulk.wallMs), perUserMs: Math.round((bulk.wallMs / users) * 10) / 10 } };
}
