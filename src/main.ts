#!/usr/bin/env node
// argv → program. Anything that escapes a command still ends as one line on stderr.
import { reportError } from './cli/context.js';
import { runProgram } from './cli/program.js';

try {
  await runProgram(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
