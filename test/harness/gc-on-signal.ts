/**
 * Preloaded into a test server (`NODE_OPTIONS="--expose-gc --import <this file>"`,
 * see gcPreloadEnv) so that a memory test can ask for a full garbage collection with
 * SIGUSR2 before it samples the server's RSS: without it, garbage that V8 has not yet
 * collected looks like a leak. Never loaded in production; the server has no SIGUSR2 use.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc(); // a second pass also frees what the first one's finalizers released
  });
}

/** Environment for startServer() that installs the SIGUSR2 → gc() handler in the child. */
export function gcPreloadEnv(): Record<string, string> {
  return { NODE_OPTIONS: `--expose-gc --import ${import.meta.url}` };
}
