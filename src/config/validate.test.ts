// validate.ts (no zod, what the loader runs) against zod-schema.ts (zod, built from the same
// specs): both must accept and reject the same raw configs and yield the same values, or a
// CLI command and the server would read the same file differently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { leafKeys, sections, type KeySpec } from './schema.js';
import { defaultOf, validateConfig } from './validate.js';
import { zodConfigSchema } from './zod-schema.js';

/** Both validators on one input: same verdict, and the same value when accepted. */
function agree(raw: unknown): boolean {
  const ours = validateConfig(raw);
  const zods = zodConfigSchema().safeParse(raw);
  assert.equal(ours !== undefined, zods.success, `validate.ts ${ours ? 'accepts' : 'rejects'} what zod ${zods.success ? 'accepts' : 'rejects'}: ${show(raw)}`);
  if (ours !== undefined) assert.deepStrictEqual(ours, zods.data, show(raw));
  return zods.success;
}

function show(raw: unknown): string {
  return JSON.stringify(raw, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v === undefined ? '(undefined)' : Number.isNaN(v) ? 'NaN' : v));
}

/** Values of every type TOML, env coercion or a typo can put under a key. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(), // NaN, ±Infinity, -0 included
  fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 60, Number.MAX_SAFE_INTEGER, -0, 0.5),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }), // a TOML datetime
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

/** Values near what `spec` accepts: its bounds, its values, its pattern's edges. */
function nearValid(spec: KeySpec): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'int':
      return fc.oneof(
        fc.constantFrom(spec.min, spec.min - 1, spec.max, spec.max + 1, spec.default, spec.min + 0.5),
        fc.integer({ min: Math.max(spec.min - 3, Number.MIN_SAFE_INTEGER), max: Math.min(spec.max, 2 ** 31 - 1) }),
        fc.constantFrom(String(spec.default), `${spec.min}`),
      );
    case 'bool':
      return fc.constantFrom(true, false, 'true', 'false', 1, 0);
    case 'enum':
      return fc.oneof(fc.constantFrom(...spec.values), fc.constantFrom(...spec.values.map((v) => v.toUpperCase()), ` ${spec.values[0]}`, ''));
    case 'listen':
      return fc.oneof(
        fc.constantFrom('off', 'OFF', '127.0.0.1:0', '[::1]:143', '[1.2.3.4]:1', 'host:65535', 'host:65536', 'host:', ':25', 'a b:1', spec.default),
        fc.tuple(fc.oneof(fc.ipV4(), fc.domain(), fc.ipV6().map((h) => `[${h}]`)), fc.integer({ min: 0, max: 99999 })).map(([h, p]) => `${h}:${p}`),
      );
    case 'string':
      return fc.oneof(fc.constantFrom('', 'x', 'never', '0', '12345', '123456', 'never ', '/srv/mail'), fc.string());
  }
}

/** Keys that are not config keys but are names every object answers to. */
const STRANGE_KEYS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'imapp', ''];

/** A table of some of `specs`' keys (near-valid values mostly), sometimes an unknown key. */
function table(specs: Record<string, KeySpec>, extraKeys: string[]): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(specs);
  const entry = fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), fc.oneof({ weight: 4, arbitrary: nearValid(specs[name]) }, { weight: 1, arbitrary: junk })));
  const unknown = fc.tuple(fc.constantFrom(...STRANGE_KEYS, ...extraKeys), junk);
  return fc
    .tuple(fc.array(entry, { maxLength: 6 }), fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(unknown, { minLength: 1, maxLength: 2 }) }))
    // fromEntries defines own properties: a "__proto__" key stays a key, as TOML would give it.
    .map(([known, other]) => Object.fromEntries([...known, ...other]));
}

const { '': topSpecs, ...tableSpecs } = sections;
const tableNames = Object.keys(tableSpecs);

/** A whole raw config: top-level keys and tables, a table sometimes replaced by something else. */
const rawConfig: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    table(topSpecs, []),
    fc.array(
      fc.constantFrom(...tableNames).chain((name) =>
        fc.tuple(fc.constant(name), fc.oneof({ weight: 6, arbitrary: table(tableSpecs[name as keyof typeof tableSpecs], tableNames) }, { weight: 1, arbitrary: junk })),
      ),
      { maxLength: 4 },
    ),
  )
  .map(([top, tables]) => ({ ...top, ...Object.fromEntries(tables) }));

test('validate.ts and zod agree on generated configs, valid and not (property)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(rawConfig, (raw) => {
      if (agree(raw)) accepted++;
    }),
    { numRuns: 3000 },
  );
  // Both outcomes must be exercised, or the property says little.
  assert.ok(accepted > 300 && accepted < 2700, `accepted ${accepted} of 3000`);
});

test('validate.ts and zod agree on each key alone, for any value (property)', () => {
  for (const leaf of leafKeys()) {
    const wrap = (value: unknown) => (leaf.section ? { [leaf.section]: { [leaf.key]: value } } : { [leaf.key]: value });
    fc.assert(
      fc.property(fc.oneof(nearValid(leaf.spec), junk), (value) => {
        agree(wrap(value));
      }),
      { numRuns: 150 },
    );
  }
});

test('validate.ts and zod agree on the edge cases (table)', () => {
  const date = new Date('1979-05-27T07:32:00Z');
  const rows: [unknown, boolean][] = [
    [{}, true],
    [{ listen: {} }, true],
    [{ listen: date }, true], // zod takes a date for an empty table; so must we
    [{ listen: [] }, false],
    [{ listen: null }, false],
    [{ listen: undefined }, true],
    [{ listen: 5 }, false],
    [{ listen: { imap: 'off' } }, true],
    [{ listen: { imap: '[::1]:143', pop3: '127.0.0.1:0' } }, true],
    [{ listen: { imap: '[127.0.0.1]:143' } }, false],
    [{ listen: { imap: 'localhost:65536' } }, false],
    [{ listen: { imap: 143 } }, false],
    [{ listen: { imapp: '127.0.0.1:1' } }, false],
    [{ listen: { imap: undefined } }, true],
    [{ data: '' }, false],
    [{ data: '/srv' }, true],
    [{ hostname: '' }, false],
    [{ limits: { connections_per_ip: 0 } }, false],
    [{ limits: { connections_per_ip: 1 } }, true],
    [{ limits: { connections_per_ip: 1.5 } }, false],
    [{ limits: { connections_per_ip: Infinity } }, false],
    [{ limits: { connections_per_ip: NaN } }, false],
    [{ limits: { connections_per_ip: 2 ** 53 } }, false],
    [{ limits: { connections_per_ip: Number.MAX_SAFE_INTEGER } }, true],
    [{ limits: { connections_per_ip: 5n } }, false],
    [{ limits: { connections_per_ip: '5' } }, false],
    [{ limits: { shutdown_timeout_ms: -0 } }, true],
    [{ imap: { metadata_max_size: 65536 } }, true],
    [{ imap: { metadata_max_size: 65537 } }, false],
    [{ auth: { hash_workers: 4 } }, true],
    [{ auth: { hash_workers: 5 } }, false],
    [{ log: { level: 'warn' } }, true],
    [{ log: { level: 'WARN' } }, false],
    [{ log: { trace: 'true' } }, false],
    [{ pop3: { keep_days: 'never' } }, true],
    [{ pop3: { keep_days: '99999' } }, true],
    [{ pop3: { keep_days: '100000' } }, false],
    [{ pop3: { keep_days: 7 } }, false],
    [{ colour: 'blue' }, false],
    [Object.fromEntries([['__proto__', {}]]), false],
    [{ toString: 'x' }, false],
    [{ listen: { constructor: 'x' } }, false],
  ];
  for (const [raw, accepted] of rows) assert.equal(agree(raw), accepted, show(raw));
});

test('every default is valid, and the defaults are what zod gives an empty config', () => {
  for (const leaf of leafKeys()) defaultOf(leaf.spec);
  assert.ok(validateConfig({}));
  agree({});
});
