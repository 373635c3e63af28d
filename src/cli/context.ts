/**
 * What every CLI command shares: global options, config loading, opening and closing
 * the store, and turning any failure into one line on stderr plus an exit code.
 *
 * Exit codes: 0 ok; 2 configuration error; 1 anything else (store, listen, TLS,
 * CliError, unexpected). The stack is printed only when MAILROOM_DEBUG is set.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/types.js';
import { retentionSettings } from '../mail/recently-deleted.js';

/** A command's own failure (bad argument, nothing to do): message shown as is, exit 1 unless told. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `--data DIR` and `--config FILE`, accepted before or after the command name. */
export interface GlobalOptions {
  data?: string;
  config?: string;
}

export interface CliContext {
  config: Config;
  store: Store;
  /** Logs to stderr, so stdout stays the command's output. */
  log: Logger;
}

/** The global options as seen from inside a command's action. */
export function globalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<GlobalOptions>();
  return { data: o.data, config: o.config };
}

/** Loads config with `--config` and the `--data` override. Throws ConfigError. */
export function loadCliConfig(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig({ configPath: opts.config, env, overrides: { data: opts.data } });
}

/** Exit code for an error, by kind. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return 2;
  if (err instanceof CliError) return err.exitCode;
  return 1;
}

/** Writes the one-line report for `err` to stderr and returns the exit code. */
export function reportError(err: unknown, env: NodeJS.ProcessEnv = process.env): number {
  const message = err instanceof Error ? err.message : String(err);
  const line = err instanceof ConfigError ? message : `error: ${message}`;
  process.stderr.write(`${line.replace(/\s*\n\s*/g, ' ')}\n`);
  if (env.MAILROOM_DEBUG && err instanceof Error && !(err instanceof ConfigError || err instanceof CliError || err instanceof StoreError)) {
    process.stderr.write(`${err.stack ?? ''}\n`);
  }
  return exitCodeFor(err);
}

/** The context a command gets; its logger is made on first use (pino is a good part of a start-up, and most commands never log). */
function cliContext(config: Config, store: Store): CliContext {
  let log: Logger | undefined;
  return {
    config,
    store,
    get log(): Logger {
      // Info lines (migrations, …) would drown a command's output; debug/trace still come through.
      const level = config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn';
      return (log ??= createLogger({ level, destination: 'stderr', format: config.log.format }));
    },
  };
}

/**
 * Loads config, opens the store, runs `fn`, closes the store. Any error becomes one
 * stderr line and `process.exitCode`; it never throws.
 */
export async function runWithStore(opts: GlobalOptions, fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  try {
    const config = loadCliConfig(opts);
    // Loaded here, not at the top: the store drivers are most of the CLI's start-up time, and --help needs none of them.
    const [{ openStore }, { LocalChangeBus }] = await Promise.all([import('../store/open.js'), import('../store/bus.js')]);
    const store = await openStore({ dataDir: config.data, databaseUrl: config.database_url, database: config.database, bus: new LocalChangeBus(), retention: retentionSettings(config) });
    try {
      await fn(cliContext(config, store));
    } finally {
      await store.close();
    }
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
