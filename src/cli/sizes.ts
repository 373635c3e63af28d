/** Human sizes for the CLI: `500M`, `1.5G`, `2048`, `unlimited`. Binary units (1K = 1024). */

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1024 ** 2, MB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, T: 1024 ** 4, TB: 1024 ** 4 };

/** Parses a size; null means unlimited. Throws Error with a one-line reason. */
export function parseSize(input: string): number | null {
  const s = input.trim().toUpperCase();
  if (s === 'UNLIMITED' || s === 'NONE') return null;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?B?)$/.exec(s);
  if (!m) throw new Error(`invalid size "${input}": expected e.g. 500M, 2G, 1048576 or unlimited`);
  const value = Math.round(Number(m[1]) * UNITS[m[2]]);
  if (!Number.isSafeInteger(value)) throw new Error(`invalid size "${input}": too large`);
  return value;
}

/** Parses a count; null means unlimited. */
export function parseCount(input: string): number | null {
  const s = input.trim().toLowerCase();
  if (s === 'unlimited' || s === 'none') return null;
  if (!/^\d{1,15}$/.test(s)) throw new Error(`invalid count "${input}": expected a whole number or unlimited`);
  return Number(s);
}

export function formatSize(bytes: number | null): string {
  if (bytes === null) return 'unlimited';
  for (const [unit, factor] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= factor) return `${(bytes / factor).toFixed(bytes % factor === 0 ? 0 : 1)}${unit}`;
  }
  return `${bytes}B`;
}
