/**
 * Validates the merged raw config (file ← env ← overrides) against the specs in schema.ts
 * without zod: it accepts exactly what the zod schema built from the same specs
 * (zod-schema.ts) accepts, and yields the same value; validate.test.ts checks both on
 * generated inputs. It does not explain a rejection: the loader then asks zod, whose issues
 * word the error. So zod is loaded only for a config that is wrong.
 *
 * Never imports: zod, the store, the network.
 */
import { parseListenAddress, sections, type Config, type KeySpec } from './schema.js';

/** Marks a value the spec rejects (undefined is a valid input: the key is missing). */
const REJECTED: unique symbol = Symbol('rejected');
type Checked = unknown | typeof REJECTED;

/** What zod's object schema takes for an object: arrays no, anything else of type object yes (a TOML date too). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A key's value when the config does not set it. */
export function defaultOf(spec: KeySpec): unknown {
  const value = leafValue(spec, undefined);
  if (value === REJECTED) throw new Error(`config: the default of ${spec.env} is invalid`);
  return value;
}

function leafValue(spec: KeySpec, value: unknown): Checked {
  switch (spec.type) {
    case 'string':
      // As zod's .default(): a missing key takes the default as is, unchecked.
      if (value === undefined) return typeof spec.default === 'function' ? spec.default() : spec.default;
      if (typeof value !== 'string') return REJECTED;
      if (spec.minLength !== undefined && value.length < spec.minLength) return REJECTED;
      if (spec.pattern && !spec.pattern.test(value)) return REJECTED;
      return value;
    case 'int':
      if (value === undefined) return spec.default;
      // Number.isInteger refuses NaN and ±Infinity; max (at most 2^53-1) keeps it a safe integer.
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max ? value : REJECTED;
    case 'bool':
      if (value === undefined) return spec.default;
      return typeof value === 'boolean' ? value : REJECTED;
    case 'enum':
      if (value === undefined) return spec.default;
      return typeof value === 'string' && spec.values.includes(value) ? value : REJECTED;
    case 'listen': {
      // As zod's .prefault(): the default is text, parsed like a configured value.
      const text = value === undefined ? spec.default : value;
      if (typeof text !== 'string') return REJECTED;
      return text === 'off' ? 'off' : (parseListenAddress(text) ?? REJECTED);
    }
  }
}

/** A strict table: every key known, every value valid; undefined when not. */
function tableValue(specs: Record<string, KeySpec>, value: Record<string, unknown>, tables: Record<string, Record<string, KeySpec>> = {}): Record<string, unknown> | undefined {
  for (const name of Object.keys(value)) {
    if (!Object.hasOwn(specs, name) && !Object.hasOwn(tables, name)) return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const checked = leafValue(spec, value[name]);
    if (checked === REJECTED) return undefined;
    out[name] = checked;
  }
  for (const [name, table] of Object.entries(tables)) {
    const given = value[name] === undefined ? {} : value[name]; // as zod's .prefault({}): a missing table is an empty one (null is not missing)
    if (!isObject(given)) return undefined;
    const checked = tableValue(table, given);
    if (checked === undefined) return undefined;
    out[name] = checked;
  }
  return out;
}

/** The validated config, or undefined when zod's schema would reject `raw` (ask it why). */
export function validateConfig(raw: unknown): Config | undefined {
  if (!isObject(raw)) return undefined;
  const { '': top, ...tables } = sections;
  return tableValue(top, raw, tables) as Config | undefined;
}
