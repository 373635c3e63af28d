/**
 * An Apple configuration profile (`.mobileconfig`, a property list) that adds one mail
 * account, payload type com.apple.mail.managed: incoming IMAP or POP3, outgoing
 * submission. The profile's identifier is the same for IMAP and POP3 of one user, so
 * installing the other kind replaces the account instead of adding a second one; its
 * UUIDs are derived from the host, the address and the protocol, so downloading it
 * again gives the same profile. No password is included: the device asks for it.
 */
import { createHash } from 'node:crypto';
import type { Endpoint } from './endpoints.js';
import { escapeXml } from './xml.js';

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

export interface ProfileInput {
  address: string;
  /** The server's host name; it scopes the identifiers. */
  hostname: string;
  incoming: Endpoint;
  outgoing: Endpoint;
}

export function appleMailProfile(p: ProfileInput): string {
  const kind = p.incoming.protocol === 'pop3' ? 'POP3' : 'IMAP';
  const identifier = profileIdentifier(p.hostname, p.address);
  const account: PlistValue = {
    EmailAccountDescription: p.address,
    EmailAccountType: kind === 'POP3' ? 'EmailTypePOP' : 'EmailTypeIMAP',
    EmailAddress: p.address,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: p.incoming.host,
    IncomingMailServerPortNumber: p.incoming.port,
    // false on a STARTTLS port: Apple Mail then upgrades with STARTTLS itself.
    IncomingMailServerUseSSL: p.incoming.tls === 'implicit',
    IncomingMailServerUsername: p.address,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerHostName: p.outgoing.host,
    OutgoingMailServerPortNumber: p.outgoing.port,
    OutgoingMailServerUseSSL: p.outgoing.tls === 'implicit',
    OutgoingMailServerUsername: p.address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${p.address} (${kind})`,
    PayloadDisplayName: `${p.address} (${kind})`,
    PayloadIdentifier: `${identifier}.account`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: stableUuid(p.hostname, p.address, kind, 'account'),
    PayloadVersion: 1,
  };
  const profile: PlistValue = {
    PayloadContent: [account],
    PayloadDescription: `Sets up the mail account ${p.address} (${kind}) on ${p.hostname}.`,
    PayloadDisplayName: `Mail: ${p.address}`,
    PayloadIdentifier: identifier,
    PayloadOrganization: p.address.slice(p.address.lastIndexOf('@') + 1),
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: stableUuid(p.hostname, p.address, kind, 'profile'),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...plistLines(profile),
    '</plist>',
    '',
  ].join('\n');
}

/** Reverse-DNS identifier, one per user and server. */
export function profileIdentifier(hostname: string, address: string): string {
  const reversed = hostname.toLowerCase().split('.').filter(Boolean).reverse().join('.');
  return `${reversed}.mailroom.mail.${createHash('sha256').update(address.toLowerCase()).digest('hex').slice(0, 16)}`;
}

/** A name-based UUID (version 5 layout over SHA-256) of the parts, upper-case as Apple writes them. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\0').toLowerCase()).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function plistLines(value: PlistValue, depth = 0): string[] {
  const pad = '\t'.repeat(depth);
  if (typeof value === 'string') return [`${pad}<string>${escapeXml(value)}</string>`];
  if (typeof value === 'number') return [`${pad}<integer>${Math.trunc(value)}</integer>`];
  if (typeof value === 'boolean') return [`${pad}<${value}/>`];
  if (Array.isArray(value)) return [`${pad}<array>`, ...value.flatMap((v) => plistLines(v, depth + 1)), `${pad}</array>`];
  const entries = Object.entries(value).flatMap(([k, v]) => [`${pad}\t<key>${escapeXml(k)}</key>`, ...plistLines(v, depth + 1)]);
  return [`${pad}<dict>`, ...entries, `${pad}</dict>`];
}
