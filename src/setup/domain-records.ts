/**
 * The records of one hosted domain as `mailroom dns` and `domain add` print them:
 * builds them from the configuration, the domain's DKIM keys (one is made when it has
 * none: a domain without a key cannot pass DMARC through DKIM) and the MTA-STS policy.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { dkimRecord, generateDkimKey, loadDkimKeys } from '../mail/dkim.js';
import { dnsRecords, setupWarnings, zoneLine, type DnsRecord } from './dns-records.js';
import { mtaStsPolicy } from './mta-sts.js';

export interface DomainRecords {
  records: DnsRecord[];
  warnings: string[];
  /** The key file made for this call, if the domain had none. */
  generatedKey?: string;
}

export async function domainRecords(config: Config, domain: string): Promise<DomainRecords> {
  let keys = await loadDkimKeys(config.data, domain);
  let generatedKey: string | undefined;
  if (keys.length === 0) {
    const made = await generateDkimKey(config.data, domain);
    keys = [made.key];
    generatedKey = made.file;
  }
  const certPem = config.tls.cert ? readFileSync(config.tls.cert, 'utf8') : null;
  const records = dnsRecords({ domain, config, dkim: keys.map(dkimRecord), mtaSts: mtaStsPolicy(config.hostname, certPem) });
  return { records, warnings: setupWarnings(config), generatedKey };
}

/** Zone-file text: a comment per record saying what it is for, then the line. */
export function zoneText(domain: string, r: DomainRecords): string {
  const lines = [`; DNS records for ${domain} (paste into its zone; names are fully qualified)`];
  if (r.generatedKey) lines.push(`; a DKIM key was made for ${domain}: ${r.generatedKey} (outgoing mail is signed from now on)`);
  for (const w of r.warnings) lines.push(`; warning: ${w}`);
  for (const record of r.records) lines.push(`; ${record.purpose}`, zoneLine(record));
  return lines.join('\n') + '\n';
}
