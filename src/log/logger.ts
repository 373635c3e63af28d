/**
 * The logger: pino, JSON lines, one per event (readable lines on a terminal, pretty.ts). The server writes to stdout; CLI
 * commands write to stderr so their stdout stays the command's output.
 * Per-connection child loggers carry `listener` and a short random `session` id,
 * so every line of one conversation can be grepped together.
 *
 * Never imports: config loading, the store, the network, protocols.
 * Invariants: never log a password or SASL payload (use trace.ts for protocol lines).
 */
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { prettyLine } from './pretty.js';
import type { Logger, DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger } from 'pino';

// pino is required on the first createLogger, not imported: a CLI command that never logs
// (most of them) starts without it.
const require = createRequire(import.meta.url);
let pinoModule: typeof import('pino') | undefined;
function loadPino(): typeof import('pino') {
  return (pinoModule ??= require('pino') as typeof import('pino'));
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout (fd 1), written synchronously so nothing is lost at exit. */
  destination?: DestinationStream | 'stdout' | 'stderr';
  /** JSON lines, or readable ones (see LogFormat); default auto. */
  format?: LogFormat;
}

/**
 * `pretty` for a person at a terminal, `json` for log collectors and files; `auto` (the
 * default) picks pretty when the destination is a terminal.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Writes each JSON line as a readable one (pretty.ts), synchronously like pino.destination({ sync: true }). */
function prettyDestination(fd: number): DestinationStream {
  const colour = isatty(fd) && !process.env.NO_COLOR;
  return { write: (line: string) => void writeSync(fd, prettyLine(line, colour)) };
}

/** Creates the root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { pino } = loadPino();
  const dest = options.destination ?? 'stdout';
  const fd = dest === 'stdout' ? 1 : dest === 'stderr' ? 2 : undefined;
  const format = options.format ?? 'auto';
  const pretty = fd !== undefined && (format === 'pretty' || (format === 'auto' && isatty(fd)));
  const stream = fd === undefined ? (dest as DestinationStream) : pretty ? prettyDestination(fd) : pino.destination({ fd, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined, // pid and hostname on every line are noise for a single-process server
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** A short random id for one connection: 8 URL-safe characters. */
export function newSessionId(): string {
  return randomBytes(6).toString('base64url');
}

/** The child logger for one connection of one listener. */
export function sessionLogger(parent: Logger, listener: string, session: string): Logger {
  return parent.child({ listener, session });
}
