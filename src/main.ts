#!/usr/bin/env node
// argv → program. Anything that escapes a command still ends as one line on stderr.
import module from 'node:module';
import { runProgram } from './cli/program.js';

// Mail, password hashes and keys are nobody else's business: every file this process
// creates (database, WAL, blobs, spools, keys) is private to the user it runs as.
process.umask(0o077);

// Node 22.1+: compiled code of the modules a command loads is cached on disk, so the next
// start skips compiling them (NODE_DISABLE_COMPILE_CACHE=1 turns it off). Node 20 has no such cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

try {
  await runProgram(process.argv);
} catch (err) {
  // Loaded only on failure: context.js brings config loading (zod), which --help does without.
  const { reportError } = await import('./cli/context.js');
  process.exitCode = reportError(err);
}
