#!/usr/bin/env node
// argv → program. Anything that escapes a command still ends as one line on stderr.
import { reportError } from './cli/context.js';
import { runProgram } from './cli/program.js';

// Mail, password hashes and keys are nobody else's business: every file this process
// creates (database, WAL, blobs, spools, keys) is private to the user it runs as.
process.umask(0o077);

try {
  await runProgram(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
