#!/usr/bin/env node
// argv → program. Anything that escapes a command still ends as one line on stderr.
import { enableCompileCache } from './cli/compile-cache.js';

// Mail, password hashes and keys are nobody else's business: every file this process
// creates (database, WAL, blobs, spools, keys) is private to the user it runs as.
process.umask(0o077);

// Node 22.1+ (no-op on 20): compiled code cached on disk, for the modules loaded after
// this call, hence the dynamic import below.
enableCompileCache();

// `user add|passwd --password P`: the password hash starts before anything else loads (early-hash.ts).
if (process.argv.some((a) => a === '--password' || a.startsWith('--password='))) {
  (await import('./cli/early-hash.js')).startEarlyHash(process.argv);
}

try {
  const { runProgram } = await import('./cli/program.js');
  await runProgram(process.argv);
} catch (err) {
  // Loaded only on failure: context.js brings config loading, which --help does without.
  const { reportError } = await import('./cli/context.js');
  process.exitCode = reportError(err);
}
