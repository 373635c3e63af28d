/**
 * Preloaded into a test server (`NODE_OPTIONS="--expose-gc --import <this file>"`,
 * see gcPreloadEnv) so that a memory test can ask for a full garbage collection with
 * SIGUSR2 before it samples the server's RSS: without it, garbage that V8 has not yet
 * collected looks like a leak. After each collection it writes one stderr line
 * `gc-on-signal {"rss":…,"heapUsed":…,"external":…}` (bytes), read by lastGcStats. Never loaded in production; the server has no SIGUSR2 use.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc(); // a second pass also frees what the first one's finalizers released
    const m = process.memoryUsage();
    process.stderr.write(`gc-on-signal ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`);
  });
}

/** Environment for startServer() that installs the SIGUSR2 → gc() handler in the child. */
export function gcPreloadEnv(): Record<string, string> {
  return { NODE_OPTIONS: `--expose-gc --import ${import.meta.url}` };
}

/** The figures of the last collection a server wrote to its stderr, if any. */
export function lastGcStats(stderr: string): { rss: number; heapUsed: number; external: number } | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('gc-on-signal '));
  return lines.length > 0 ? (JSON.parse(lines[lines.length - 1].slice('gc-on-signal '.length)) as { rss: number; heapUsed: number; external: number }) : undefined;
}
