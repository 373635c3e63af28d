/** Facts about the server certificate that setup documents depend on. */
import { X509Certificate } from 'node:crypto';

/** The PEM blocks of a chain file, leaf first. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * True when the leaf certificate signed itself (Mailroom's own under `<data>/tls/`, or
 * one made by hand): mail apps and other servers cannot trust it without being told to.
 */
export function isSelfSigned(chainPem: string): boolean {
  const leaf = pemBlocks(chainPem)[0];
  if (!leaf) return true;
  const cert = new X509Certificate(leaf);
  // Not checkIssued: it also wants keyCertSign, which a self-signed server certificate often lacks.
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}
