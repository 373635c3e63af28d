/**
 * Mail addresses as the mail services use them: `local@domain` with the domain
 * lower-cased and in ASCII (IDNA A-labels), the local part kept as given.
 */
import { domainToASCII } from 'node:url';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export interface ParsedAddress {
  local: string;
  domain: string;
  /** `local@domain`, normalised */
  address: string;
}

// RFC 5322 atext; dots only between atoms (dot-atom). Quoted local parts are refused
// for accounts: they are legal on the wire but no user picks one for a login.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalises a domain name; throws AddressError when it is not a valid host name. */
export function normaliseDomain(input: string): string {
  const trimmed = input.trim().replace(/\.$/, '');
  const ascii = /^[\x20-\x7e]*$/.test(trimmed) ? trimmed.toLowerCase() : domainToASCII(trimmed);
  if (!ascii || ascii.length > 253) throw new AddressError(`invalid domain "${input}"`);
  const labels = ascii.split('.');
  if (labels.length < 1 || !labels.every((l) => LABEL.test(l))) throw new AddressError(`invalid domain "${input}"`);
  return ascii;
}

/** Parses `local@domain`; throws AddressError with a reason. */
export function parseAddress(input: string): ParsedAddress {
  const s = input.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) throw new AddressError(`invalid address "${input}": expected local@domain`);
  const local = s.slice(0, at);
  if (local.length > 64) throw new AddressError(`invalid address "${input}": local part longer than 64 characters`); // RFC 5321 4.5.3.1.1
  if (!DOT_ATOM.test(local)) throw new AddressError(`invalid address "${input}": bad local part`);
  const domain = normaliseDomain(s.slice(at + 1));
  return { local, domain, address: `${local}@${domain}` };
}

/** Parses an alias source: `local@domain`, or `@domain` for a catch-all. */
export function parseAliasSource(input: string): string {
  const s = input.trim();
  if (s.startsWith('@')) return `@${normaliseDomain(s.slice(1))}`;
  return parseAddress(s).address;
}

/** Splits `user+tag` into its base; null when there is no sub-address. */
export function subaddressBase(local: string, separator: string): string | null {
  if (!separator) return null;
  const i = local.indexOf(separator);
  return i > 0 ? local.slice(0, i) : null;
}
