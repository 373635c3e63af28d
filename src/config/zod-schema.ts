/**
 * The config schema as zod, built from the specs in schema.ts. The loader uses it only
 * when validate.ts rejects a config: zod's issues say which key is wrong, and how. It is
 * also the reference validate.ts is tested against (validate.test.ts).
 *
 * Never imports: the store, the network, protocols.
 */
import { createRequire } from 'node:module';
import type * as zod from 'zod';
import { LISTEN_EXPECTED, parseListenAddress, sections, type KeySpec, type ListenAddress } from './schema.js';

let schema: zod.ZodType | undefined;

/** The schema (built on first use: zod is loaded then, not when this module is). */
export function zodConfigSchema(): zod.ZodType {
  if (schema) return schema;
  // zod's CommonJS build: Node 20 loads its ~95 files faster through require than as ES modules.
  const z = createRequire(import.meta.url)('zod') as typeof zod;
  // One parse per process (and per reload): zod's JIT, which compiles each object schema
  // with new Function on its first parse, costs more than it saves here.
  z.config({ jitless: true });
  const leaf = (spec: KeySpec): zod.ZodType => {
    switch (spec.type) {
      case 'string': {
        let s = z.string();
        if (spec.minLength !== undefined) s = s.min(spec.minLength);
        if (spec.pattern) s = s.regex(spec.pattern);
        const fallback = spec.default;
        return typeof fallback === 'function' ? s.default(fallback) : s.default(fallback);
      }
      case 'int':
        return z.number().int().min(spec.min).max(spec.max).default(spec.default);
      case 'bool':
        return z.boolean().default(spec.default);
      case 'enum':
        return z.enum(spec.values as [string, ...string[]]).default(spec.default);
      case 'listen':
        return z
          .string()
          .transform((text, ctx): ListenAddress | 'off' => {
            if (text === 'off') return 'off';
            const address = parseListenAddress(text);
            if (address) return address;
            ctx.addIssue({ code: 'custom', message: LISTEN_EXPECTED });
            return z.NEVER;
          })
          .prefault(spec.default);
    }
  };
  const shape = (specs: Record<string, KeySpec>) => Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, leaf(spec)]));
  const { '': top, ...tables } = sections;
  schema = z.strictObject({
    ...shape(top),
    ...Object.fromEntries(Object.entries(tables).map(([name, specs]) => [name, z.strictObject(shape(specs)).prefault({})])),
  });
  return schema;
}
