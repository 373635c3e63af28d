#!/usr/bin/env node
// argv → program. Anything that escapes a command still ends as one line on stderr.
import { runProgram } from './cli/program.js';

// Mail, password hashes and keys are nobody else's business: every file this process
// creates (database, WAL, blobs, spools, keys) is private to the user it runs as.
process.umask(0o077);

try {
  await runProgram(process.argv);
} catch (err) {
  // Loaded only on failure: context.js brings config loading (zod), which --help does without.
  const { reportError } = await import('./cli/context.js');
  process.exitCode = reportError(err);
}
