/**
 * The file `mailroom user add --from-file` reads: one user a line,
 * `address[,password[,quota]]`, CSV quoting ("…", "" for a quote) so passwords may hold
 * commas; an empty password means "generate one" (printed once); quota as in
 * `quota set --storage` (e.g. 2G, 500M, unlimited). Blank lines, `#` comments and a
 * header line starting with `address` are skipped.
 *
 * Never imports: the store. Invariant: the whole file is checked before anything is
 * created, and every bad line is reported with its number.
 */
import { parseAddress } from '../mail/address.js';
import { parseSize } from './sizes.js';

export interface UserLine {
  line: number;
  address: string;
  /** null: generate one. */
  password: string | null;
  /** Storage limit in bytes (null: unlimited), or undefined to keep the default. */
  quota?: number | null;
}

export type UsersFile = { ok: true; users: UserLine[] } | { ok: false; errors: string[] };

/** Splits one CSV line into fields; null when a quote is not closed. */
export function csvFields(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') return null; // text after a closing quote
    } else {
      const comma = line.indexOf(',', i);
      field = (comma < 0 ? line.slice(i) : line.slice(i, comma)).trim();
      i = comma < 0 ? line.length : comma;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
    while (line[i] === ' ' || line[i] === '\t') i++;
  }
}

export function parseUsersFile(text: string): UsersFile {
  const users: UserLine[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const n = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = csvFields(line);
    if (!fields) return void errors.push(`line ${n}: unbalanced quotes`);
    if (users.length === 0 && errors.length === 0 && fields[0].toLowerCase() === 'address') return; // header
    if (fields.length > 3) return void errors.push(`line ${n}: expected address[,password[,quota]], got ${fields.length} fields`);
    const [addressField, password = '', quotaField = ''] = fields;
    let address: string;
    try {
      address = parseAddress(addressField).address;
    } catch (err) {
      return void errors.push(`line ${n}: ${(err as Error).message}`);
    }
    const earlier = seen.get(address.toLowerCase());
    if (earlier) return void errors.push(`line ${n}: ${address} already on line ${earlier}`);
    seen.set(address.toLowerCase(), n);
    let quota: number | null | undefined;
    if (quotaField !== '') {
      try {
        quota = parseSize(quotaField);
      } catch (err) {
        return void errors.push(`line ${n}: quota: ${(err as Error).message}`);
      }
    }
    users.push({ line: n, address, password: password === '' ? null : password, ...(quota !== undefined ? { quota } : {}) });
  });
  return errors.length ? { ok: false, errors } : { ok: true, users };
}
