/**
 * The trigram filter of a message row (`messages.text_filter`; SQLite since schema 23,
 * PostgreSQL since 24): the text index SEARCH TEXT/BODY narrows with (Dialect.textIndex;
 * ./text-search.ts holds the rule).
 *
 * A Bloom filter of the trigrams (of UTF-16 code units) of the content's search text as
 * ./text-search.ts indexForm prepares it: one bit per trigram, two bits of filter per
 * distinct trigram (a 1.7 KB message has ~960: 241 bytes). Every trigram of a term that is a
 * substring of the text is in the text, so a filter never misses a match; a text without the
 * term still passes when each of the term's trigrams finds its bit set, about 0.39 per
 * trigram it lacks (0.39^7 ≈ 0.1 % for a seven-trigram word). Those few are thrown out by the
 * exact check. Why not the FTS5 trigram index it replaces: that took ~1.45 KB a message
 * (postings, the content_search map and its 64-character keys), 0.84× of a small message's
 * size (issue 13: 1.5× in all); and a grouped FTS5 index, small enough, made every hit's
 * group neighbours need the exact check (a mid-frequency word 8× slower). A filter is read
 * with the mailbox's rows (no join, no key) and tested here.
 *
 * Layout: a format byte (1), then the bits (bit i is byte 1 + i/8, bit i%8). Capped at
 * MAX_BYTES: a huge text saturates it and then passes every term (checked exactly, correct).
 * Never imports: protocol code, src/mail, SQL drivers.
 */

const FORMAT = 1;
/** Filter bits per distinct trigram of the text: one hash per trigram, ~39 % of bits set. */
const BITS_PER_TRIGRAM = 2;
const MAX_BYTES = 16 * 1024;

/** A 32-bit hash of a trigram of code points (murmur3's finaliser over a mix of the three). */
function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ 0x5bd1e995, 0x85ebca77) ^ Math.imul(c ^ 0x27d4eb2f, 0xc2b2ae3d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** trigramHashes' table between calls, all free (zero); grown to the largest text's need up to SCRATCH_MAX slots. */
let scratch = new Uint32Array(1024);
/** 256 KiB: texts up to 32 K characters reuse the table; a longer one (rare) allocates its own. */
const SCRATCH_MAX = 1 << 16;

/**
 * The distinct trigram hashes of a text, over UTF-16 code units as the exact rule compares
 * them (`includes`): a term holding half a surrogate pair still finds its trigrams in a text
 * where it matches half of one.
 */
function trigramHashes(text: string): Uint32Array {
  const n = Math.max(0, text.length - 2);
  if (n > OPEN_TABLE_MAX) {
    const set = new Set<number>();
    for (let i = 2; i < text.length; i++) set.add(hash3(text.charCodeAt(i - 2), text.charCodeAt(i - 1), text.charCodeAt(i)));
    return Uint32Array.from(set);
  }
  // An open-addressing table of at most half load: the filter is built on the store's one
  // writer thread, and a Set of numbers cost ~60 µs a KB of text there (profile of the LMTP
  // bench); in order of first appearance, as a Set gives them. 0 marks a free slot, so a
  // hash of 0 is noted apart. The table is one kept for every call and cleared after use,
  // not allocated anew: a 10 KB text needs 128 KiB of it.
  let cap = 16;
  while (cap < n * 2) cap <<= 1;
  const mask = cap - 1;
  const kept = cap <= SCRATCH_MAX;
  if (kept && scratch.length < cap) scratch = new Uint32Array(cap);
  const table = kept ? scratch : new Uint32Array(cap);
  const out = new Uint32Array(n);
  let count = 0;
  let zero = false;
  for (let i = 2; i < text.length; i++) {
    const h = hash3(text.charCodeAt(i - 2), text.charCodeAt(i - 1), text.charCodeAt(i));
    if (h === 0) {
      if (!zero) out[count++] = 0;
      zero = true;
      continue;
    }
    for (let j = h & mask; ; j = (j + 1) & mask) {
      const v = table[j];
      if (v === h) break;
      if (v === 0) {
        table[j] = h;
        out[count++] = h;
        break;
      }
    }
  }
  if (kept) table.fill(0, 0, cap); // nothing above throws: the table is always left free
  return out.subarray(0, count);
}

/** Texts with more trigrams than this use a Set (the table would take 8 bytes per trigram and more). */
const OPEN_TABLE_MAX = 1 << 18;

/** The filter of a text prepared by indexForm. */
export function textFilter(indexText: string): Buffer {
  const hashes = trigramHashes(indexText);
  const bytes = Math.min(MAX_BYTES, Math.max(1, Math.ceil((hashes.length * BITS_PER_TRIGRAM) / 8)));
  const f = Buffer.alloc(1 + bytes);
  f[0] = FORMAT;
  const bits = bytes * 8;
  for (const h of hashes) {
    const i = h % bits;
    f[1 + (i >>> 3)] |= 1 << (i & 7);
  }
  return f;
}

/** At most this many of a long term's trigrams are probed: any subset still passes every match. */
const MAX_PROBES = 12;

/** The trigram hashes a filter is probed with, from a term prepared by indexForm (three code points or more). */
export function filterProbe(indexTerm: string): Uint32Array {
  const all = [...trigramHashes(indexTerm)];
  const step = Math.max(1, all.length / MAX_PROBES);
  const picked: number[] = [];
  for (let i = 0; i < all.length && picked.length < MAX_PROBES; i += step) picked.push(all[Math.floor(i)]);
  return Uint32Array.from(picked);
}

/** For each bit of a byte, the 128 byte values that have it set (the haystack `instr` finds a filter byte in). */
const WITH_BIT = Array.from({ length: 8 }, (_, b) => Buffer.from(Array.from({ length: 256 }, (_, v) => v).filter((v) => v & (1 << b))));

/**
 * `mayContain` as an SQL condition on `column` in SQLite's functions (PostgreSQL's spelling is
 * pgFilterCondition), with its parameters: the rows that cannot hold the term are dropped inside
 * the database, so a rare word's SEARCH reads no filter into JavaScript. The bit of a probe
 * is `h % bits`; bits is a multiple of 8, so its bit in the byte is `h & 7` whatever the
 * filter's length, and only the byte offset is computed per row.
 */
export function filterCondition(column: string, probe: Uint32Array): { sql: string; params: unknown[] } {
  // parameters, not literals: one SQL text per probe count, so the driver's statement cache holds a few
  const tests = [...probe].map(() => `instr(?, substr(${column}, 2 + ((? % ((length(${column}) - 1) * 8)) >> 3), 1)) > 0`);
  return {
    // NULL: a row not filtered yet. (A filter has at least one byte of bits, so length - 1 is never 0.)
    sql: `(${column} IS NULL OR (${tests.join(' AND ')}))`,
    params: [...probe].flatMap((h) => [WITH_BIT[h & 7], h]),
  };
}

/**
 * Whether the text a filter was made from may contain the probed term: false only when it
 * cannot. A missing filter (a row not filtered yet) or an unknown format may contain anything.
 */
export function mayContain(filter: Uint8Array | null | undefined, probe: Uint32Array): boolean {
  if (!filter || filter.length < 2 || filter[0] !== FORMAT) return true;
  const bits = (filter.length - 1) * 8;
  for (let k = 0; k < probe.length; k++) {
    const i = probe[k] % bits;
    if ((filter[1 + (i >>> 3)] & (1 << (i & 7))) === 0) return false;
  }
  return true;
}

/**
 * filterCondition in PostgreSQL's functions (get_byte on bytea): the byte of each probe's bit
 * is found per row from the filter's length, its bit `h & 7` is a parameter mask.
 */
export function pgFilterCondition(column: string, probe: Uint32Array): { sql: string; params: unknown[] } {
  const tests = [...probe].map(() => `(get_byte(${column}, 1 + ((CAST(? AS bigint) % ((octet_length(${column}) - 1) * 8)) >> 3)::int) & CAST(? AS int)) <> 0`);
  return {
    sql: `(${column} IS NULL OR (${tests.join(' AND ')}))`,
    params: [...probe].flatMap((h) => [h, 1 << (h & 7)]),
  };
}
