/**
 * `npm run bench -- fuzz`: the readers' byte-level fuzz (test/security/reader-fuzz.ts)
 * for many runs (BENCH_FUZZ_RUNS per reader, default 2000) with a seed from the clock
 * (BENCH_FUZZ_SEED to replay one), reporting connections per second.
 */
import { fuzzReaders, fuzzServer } from '../test/security/reader-fuzz.js';

export async function benchFuzz(): Promise<object> {
  const runs = Number(process.env.BENCH_FUZZ_RUNS ?? 2000);
  const seed = Number(process.env.BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const server = await fuzzServer();
  try {
    const started = Date.now();
    const done = await fuzzReaders(server, runs, seed, 8);
    const seconds = (Date.now() - started) / 1000;
    const total = Object.values(done).reduce((a, b) => a + b, 0);
    return { seed, runsPerReader: runs, connections: total, seconds: Number(seconds.toFixed(1)), connectionsPerSecond: Math.round(total / seconds), perReader: done };
  } finally {
    await server.stop();
  }
}
