/**
 * RFC 5322 3.3 date-time to milliseconds since the epoch, lenient about the
 * obsolete forms (RFC 5322 4.3: two-digit years, named zones, missing seconds).
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, edt: -4 * 60, est: -5 * 60, cdt: -5 * 60, cst: -6 * 60, mdt: -6 * 60,
  mst: -7 * 60, pdt: -7 * 60, pst: -8 * 60,
};

/** Returns null for anything that is not a recognisable date. */
export function parseDate(value: string): number | null {
  const text = value.replace(/\([^()]*\)/g, ' ').trim().toLowerCase();
  const m = /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?/.exec(text);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]);
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 4.3
  else if (m[3].length === 3) year += 1900;
  const day = Number(m[1]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] ? Number(m[6]) : 0;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  const zone = m[7];
  if (zone && /^[+-]\d{4}$/.test(zone)) {
    const sign = zone[0] === '-' ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else if (zone && zone in ZONES) offset = ZONES[zone];
  const ms = Date.UTC(year, month, day, hour, minute, second) - offset * 60000;
  return Number.isFinite(ms) ? ms : null;
}
