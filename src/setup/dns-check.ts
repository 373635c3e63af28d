/**
 * Compares what DNS answers with the records a domain needs (dns-records.ts): each is
 * `ok`, `missing` or `wrong` (with what was found). Where the owner may rightly differ
 * from the suggestion (an SPF record naming more senders, a stricter DMARC policy), only
 * what Mailroom depends on is checked.
 */
import type { DnsResolver } from '../net/dns-resolver.js';
import type { DnsRecord, Expected } from './dns-records.js';

export type CheckStatus = 'ok' | 'missing' | 'wrong';

export interface CheckResult {
  record: DnsRecord;
  status: CheckStatus;
  /** For `wrong` (and failed lookups): what is wrong and what was found, in a few words. */
  detail?: string;
}

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENOTIMP']);

class LookupFailed extends Error {}

/** The answers, [] when the name or type does not exist; throws LookupFailed for a failing lookup (SERVFAIL, timeout). */
async function lookup<T>(resolver: DnsResolver, name: string, type: string): Promise<T[]> {
  try {
    const answer = await resolver(name, type);
    return Array.isArray(answer) ? (answer as T[]) : [];
  } catch (err) {
    const code = String((err as NodeJS.ErrnoException).code ?? '');
    if (NO_ANSWER.has(code)) return [];
    throw new LookupFailed(`lookup of ${name} ${type} failed (${code || (err as Error).message})`);
  }
}

const sameHost = (a: string, b: string) => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

export async function checkRecords(records: DnsRecord[], resolver: DnsResolver): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const record of records) {
    try {
      results.push({ record, ...(await checkOne(record, resolver)) });
    } catch (err) {
      if (!(err instanceof LookupFailed)) throw err;
      results.push({ record, status: 'wrong', detail: err.message });
    }
  }
  return results;
}

async function checkOne(record: DnsRecord, resolver: DnsResolver): Promise<{ status: CheckStatus; detail?: string }> {
  const e = record.expected;
  switch (e.type) {
    case 'A': {
      const found = [...(await lookup<string>(resolver, record.name, 'A')), ...(await lookup<string>(resolver, record.name, 'AAAA'))];
      return found.length ? { status: 'ok' } : { status: 'missing' };
    }
    case 'MX': {
      const found = await lookup<{ exchange: string; priority: number }>(resolver, record.name, 'MX');
      if (!found.length) return { status: 'missing' };
      if (found.some((m) => sameHost(m.exchange, e.exchange))) return { status: 'ok' };
      return { status: 'wrong', detail: `found MX ${found.map((m) => `${m.priority} ${m.exchange}`).join(', ')}` };
    }
    case 'TXT':
      return checkTxt(record, e, await lookup<string[]>(resolver, record.name, 'TXT'));
    case 'SRV': {
      const found = await lookup<{ name: string; port: number; priority: number; weight: number }>(resolver, record.name, 'SRV');
      // A service that is off may be left out as well as published as ".".
      if (!found.length) return e.target === '.' ? { status: 'ok' } : { status: 'missing' };
      if (found.some((s) => sameHost(s.name || '.', e.target) && (e.target === '.' || s.port === e.port))) return { status: 'ok' };
      return { status: 'wrong', detail: `found SRV ${found.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name || '.'}`).join(', ')}` };
    }
    case 'CNAME': {
      const found = await lookup<string>(resolver, record.name, 'CNAME');
      if (found.some((t) => sameHost(t, e.target))) return { status: 'ok' };
      if (found.length) return { status: 'wrong', detail: `found CNAME ${found.join(', ')}` };
      // Address records equal to the server's also reach it.
      const [own, target] = [await lookup<string>(resolver, record.name, 'A'), await lookup<string>(resolver, e.target, 'A')];
      if (own.length && target.length && own.every((a) => target.includes(a))) return { status: 'ok' };
      return own.length ? { status: 'wrong', detail: `found A ${own.join(', ')} (not ${e.target}'s address)` } : { status: 'missing' };
    }
  }
}

const TXT_PREFIX = { spf: 'v=spf1', dkim: 'v=dkim1', dmarc: 'v=dmarc1', 'mta-sts': 'v=stsv1', 'tls-rpt': 'v=tlsrptv1' } as const;

function checkTxt(record: DnsRecord, e: Extract<Expected, { type: 'TXT' }>, answers: string[][]): { status: CheckStatus; detail?: string } {
  const texts = answers.map((chunks) => chunks.join(''));
  const ours = texts.filter((t) => t.trim().toLowerCase().startsWith(TXT_PREFIX[e.kind]));
  if (!ours.length) return { status: 'missing' };
  // RFC 7208 3.2, RFC 7489 6.6.3, RFC 8461 3.1, RFC 8460 3: more than one record is an error for the reader.
  if (ours.length > 1) return { status: 'wrong', detail: `${ours.length} ${e.kind} records; there must be one` };
  const [found] = ours;
  const tags = (t: string) => new Map(t.split(';').map((p) => p.trim().split('=')).filter((kv) => kv.length >= 2).map(([k, ...v]) => [k.trim().toLowerCase(), v.join('=').replace(/\s+/g, '')]));
  const bad = (why: string) => ({ status: 'wrong' as const, detail: `${why} (found "${found}")` });
  switch (e.kind) {
    case 'spf':
      return spfAuthorisesMx(found, record.name) ? { status: 'ok' } : bad('does not authorise the MX (add "mx")');
    case 'dkim':
      return tags(found).get('p') === tags(e.text).get('p') ? { status: 'ok' } : bad('another public key');
    case 'mta-sts':
      return tags(found).get('id') === tags(e.text).get('id') ? { status: 'ok' } : bad(`the policy changed: publish id=${tags(e.text).get('id')} so senders fetch it again`);
    case 'dmarc':
      return tags(found).has('p') ? { status: 'ok' } : bad('no p= policy');
    case 'tls-rpt':
      return tags(found).has('rua') ? { status: 'ok' } : bad('no rua= address');
  }
}

function spfAuthorisesMx(record: string, domain: string): boolean {
  const terms = record.toLowerCase().split(/\s+/).slice(1);
  return terms.some((t) => ['mx', '+mx', `mx:${domain}`, `+mx:${domain}`].includes(t));
}
