/** `--older-than` values: `2y`, `18m` (months), `6w`, `90d`, or a date; gives the cutoff time. */
const UNIT = /^(\d+)\s*([ymwd])$/i;

export function parseAge(text: string, now: Date): Date {
  const m = UNIT.exec(text.trim());
  if (m) {
    const n = Number(m[1]);
    const d = new Date(now.getTime());
    switch (m[2].toLowerCase()) {
      case 'y':
        d.setUTCFullYear(d.getUTCFullYear() - n);
        break;
      case 'm':
        d.setUTCMonth(d.getUTCMonth() - n);
        break;
      case 'w':
        d.setUTCDate(d.getUTCDate() - 7 * n);
        break;
      default:
        d.setUTCDate(d.getUTCDate() - n);
    }
    return d;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new Error(`expected an age like 2y, 18m, 6w, 90d or a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
}
