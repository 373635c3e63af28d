/**
 * The logger: pino, JSON lines, one per event. The server writes to stdout; CLI
 * commands write to stderr so their stdout stays the command's output.
 * Per-connection child loggers carry `listener` and a short random `session` id,
 * so every line of one conversation can be grepped together.
 *
 * Never imports: config loading, the store, the network, protocols.
 * Invariants: never log a password or SASL payload (use trace.ts for protocol lines).
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout (fd 1), written synchronously so nothing is lost at exit. */
  destination?: DestinationStream | 'stdout' | 'stderr';
}

/** Creates the root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? 'stdout';
  const stream = dest === 'stdout' ? pino.destination({ fd: 1, sync: true }) : dest === 'stderr' ? pino.destination({ fd: 2, sync: true }) : dest;
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
