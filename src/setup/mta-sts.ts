/**
 * The MTA-STS policy (RFC 8461) for a hosted domain: our host name as the only MX,
 * `enforce` when the certificate is one other servers can verify, `testing` while it is
 * self-signed (enforce would make senders refuse to deliver). The policy id in the TXT
 * record is a digest of the policy text, so it changes exactly when the policy does.
 */
import { createHash } from 'node:crypto';
import { isSelfSigned } from './certificate.js';

export const MTA_STS_MAX_AGE_S = 604800; // one week, as RFC 8461 3.2 suggests at least

export interface MtaStsPolicy {
  text: string;
  id: string;
  mode: 'enforce' | 'testing';
}

/** `certPem` null: no configured certificate (the self-signed one is used). */
export function mtaStsPolicy(hostname: string, certPem: string | null): MtaStsPolicy {
  const mode = certPem !== null && !isSelfSigned(certPem) ? 'enforce' : 'testing';
  const text = `version: STSv1\r\nmode: ${mode}\r\nmx: ${hostname.toLowerCase()}\r\nmax_age: ${MTA_STS_MAX_AGE_S}\r\n`;
  const id = createHash('sha256').update(text).digest('hex').slice(0, 20);
  return { text, id, mode };
}
