/**
 * Loads the configuration: defaults ← TOML file ← environment ← command-line overrides.
 * The later source wins per key. Any problem becomes one ConfigError whose message
 * is a single line naming the key, where the value came from and what is expected.
 *
 * Validation: validate.ts (no zod) accepts a good config; zod (zod-schema.ts, built from the
 * same specs, loaded then) explains a bad one. validate.test.ts keeps the two in agreement.
 *
 * Never imports: the store, the network, protocols.
 * Invariants: returns only values the schema accepted; `data` is an absolute path.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { leafKeys, type Config, type LeafKey } from './schema.js';
import { validateConfig } from './validate.js';
import { zodConfigSchema } from './zod-schema.js';

// The TOML parser is required only when there is a file to parse (most CLI runs have none),
// and as smol-toml's one-file CommonJS build, which loads faster than its eight ES modules.
const require = createRequire(import.meta.url);

export type { Config } from './schema.js';

/** A configuration problem, with a one-line message ready for stderr. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(`config error: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** `--config FILE`: must exist and parse. Without it, `./mailroom.toml` is read if present. */
  configPath?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Highest precedence, e.g. `{ data: '/srv/mail' }` from `--data`. Keyed by dotted key name. */
  overrides?: Record<string, string | undefined>;
  /** Working directory for `./mailroom.toml` and relative paths; defaults to process.cwd(). */
  cwd?: string;
}

/** Name of the file read from the working directory when no --config is given. */
export const DEFAULT_CONFIG_FILE = 'mailroom.toml';

type Raw = Record<string, unknown>;

/** Loads, merges and validates; throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const { raw, fileLabel } = readFile(options.configPath, cwd);
  const sources = new Map<string, string>();
  const leaves = leafKeys();
  for (const leaf of leaves) {
    if (getPath(raw, leaf) !== undefined) sources.set(leaf.path, fileLabel);
  }
  for (const leaf of leaves) {
    const text = env[leaf.info.env];
    // An empty variable counts as unset: container tools often pass VAR= for "not configured".
    if (text === undefined || text === '') continue;
    setPath(raw, leaf, coerce(text, leaf));
    sources.set(leaf.path, leaf.info.env);
  }
  for (const [path, text] of Object.entries(options.overrides ?? {})) {
    if (text === undefined) continue;
    const leaf = leaves.find((l) => l.path === path);
    if (!leaf) throw new Error(`loadConfig: unknown override key ${path}`);
    setPath(raw, leaf, coerce(text, leaf));
    sources.set(leaf.path, 'command line');
  }
  const config = validateConfig(raw) ?? validateWithZod(raw, sources, fileLabel);
  config.data = resolve(cwd, config.data);
  if ((config.tls.cert === '') !== (config.tls.key === '')) {
    const missing = config.tls.cert === '' ? 'tls.cert (MAILROOM_TLS_CERT)' : 'tls.key (MAILROOM_TLS_KEY)';
    throw new ConfigError(`${missing}: expected a file path, because the other of tls.cert/tls.key is set`);
  }
  if (config.tls.cert !== '') {
    config.tls.cert = resolve(cwd, config.tls.cert);
    config.tls.key = resolve(cwd, config.tls.key);
  }
  return config;
}

/** The slow path, for a config validate.ts rejected: zod says which key is wrong and how. */
function validateWithZod(raw: Raw, sources: Map<string, string>, fileLabel: string): Config {
  const result = zodConfigSchema().safeParse(raw);
  if (!result.success) throw issueToError(result.error.issues, raw, sources, fileLabel);
  return result.data as Config; // only if the two validators disagree, which validate.test.ts rules out
}

function readFile(configPath: string | undefined, cwd: string): { raw: Raw; fileLabel: string } {
  let path = configPath;
  if (path === undefined) {
    const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
    if (!existsSync(fallback)) return { raw: {}, fileLabel: DEFAULT_CONFIG_FILE };
    path = fallback;
  }
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(`cannot read config file ${path}: ${why}`);
  }
  const { parse: parseToml, TomlError } = require('smol-toml') as typeof import('smol-toml');
  try {
    return { raw: parseToml(text) as Raw, fileLabel: path };
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new ConfigError(`${path}: invalid TOML at line ${err.line}, column ${err.column}: ${first}`);
    }
    throw err;
  }
}

/** Env strings become the type the key expects; unparseable text is kept so validation names it. */
function coerce(text: string, leaf: LeafKey): unknown {
  switch (leaf.info.kind) {
    case 'int':
      return /^-?\d+$/.test(text) ? Number(text) : text;
    case 'bool':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return text;
    case 'string':
      return text;
  }
}

function getPath(raw: Raw, leaf: LeafKey): unknown {
  if (!leaf.section) return raw[leaf.key];
  const table = raw[leaf.section];
  return isTable(table) ? table[leaf.key] : undefined;
}

function setPath(raw: Raw, leaf: LeafKey, value: unknown): void {
  if (!leaf.section) {
    raw[leaf.key] = value;
    return;
  }
  const table = raw[leaf.section];
  // A non-table value here came from the file and is reported as such by validation.
  if (table === undefined) raw[leaf.section] = { [leaf.key]: value };
  else if (isTable(table)) table[leaf.key] = value;
}

function isTable(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface Issue {
  code: string;
  path: PropertyKey[];
  keys?: string[];
  message: string;
}

function issueToError(issues: readonly Issue[], raw: Raw, sources: Map<string, string>, fileLabel: string): ConfigError {
  // An unknown key is usually a typo and explains the other issues, so it goes first.
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) {
    const name = [...unknown.path.map(String), unknown.keys?.[0] ?? '?'].join('.');
    return new ConfigError(`unknown key "${name}" (${fileLabel})`);
  }
  const issue = issues[0];
  const path = issue.path.map(String).join('.');
  const leaf = leafKeys().find((l) => l.path === path);
  const got = issue.path.reduce<unknown>((v, k) => (isTable(v) ? v[k as string] : undefined), raw);
  if (!leaf) return new ConfigError(`${path} (${fileLabel}): expected a table, got ${show(got)}`);
  const source = sources.get(path) ?? fileLabel;
  return new ConfigError(`${path} (${source}): expected ${leaf.info.expected}, got ${show(got)}`);
}

function show(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
