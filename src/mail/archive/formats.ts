/**
 * Writing and reading an export in one of the formats, mailbox by mailbox: the part of
 * `export`, `import` and `archive` that touches files. Pure file I/O over MailEntry lists;
 * never imports the store.
 *
 * mbox: with `single`, OUT is one mbox file; without, OUT is a directory holding
 * `NAME.mbox` per mailbox (`A/B` as `A/B.mbox`). maildir: OUT is a tree of maildirs
 * (maildir.ts). eml-zip: OUT is one zip file of `.eml` files with an index (eml-zip.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeMessage, parseMbox, type MailEntry } from './mbox.js';
import { findMaildirs, readMaildir, writeMaildir } from './maildir.js';
import { readEmlZip, writeEmlZip } from './eml-zip.js';

export const FORMATS = ['mbox', 'maildir', 'eml-zip'] as const;
export type Format = (typeof FORMATS)[number];

export type NamedEntry = MailEntry & { name: string };

export interface BoxExport {
  mailbox: string;
  entries: NamedEntry[];
}

export class ArchiveFormatError extends Error {}

export function parseFormat(text: string): Format {
  if (!(FORMATS as readonly string[]).includes(text)) throw new ArchiveFormatError(`--format: expected ${FORMATS.join(', ')}, got ${text}`);
  return text as Format;
}

/** Writes every mailbox; returns warnings (keywords a maildir could not keep). */
export function writeExport(fmt: Format, out: string, boxes: BoxExport[], single: boolean): string[] {
  const warnings: string[] = [];
  if (fmt === 'eml-zip') {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeEmlZip(out, boxes);
    return warnings;
  }
  for (const box of boxes) {
    if (fmt === 'maildir') {
      const dropped = writeMaildir(path.join(out, ...box.mailbox.split('/')), box.entries);
      if (dropped.length > 0) warnings.push(`${box.mailbox}: more than 26 keywords; not kept: ${dropped.join(' ')}`);
      continue;
    }
    const file = single ? out : path.join(out, ...`${box.mailbox}.mbox`.split('/'));
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, Buffer.concat(box.entries.map(encodeMessage)));
  }
  return warnings;
}

/** mailbox name → entries, from PATH; `into` puts everything into one mailbox. */
export function readExport(fmt: Format, from: string, into: string | undefined): Map<string, MailEntry[]> {
  if (!fs.existsSync(from)) throw new ArchiveFormatError(`cannot read ${from}`);
  const out = new Map<string, MailEntry[]>();
  const add = (name: string, e: MailEntry[]) => out.set(name, [...(out.get(name) ?? []), ...e]);
  if (fmt === 'eml-zip') {
    try {
      return readEmlZip(from, into);
    } catch (err) {
      throw new ArchiveFormatError(`cannot read ${from} as eml-zip: ${(err as Error).message}`);
    }
  }
  if (fmt === 'maildir') {
    const dirs = findMaildirs(from);
    if (dirs.length === 0) throw new ArchiveFormatError(`no maildir under ${from} (a maildir has a cur/ directory)`);
    for (const d of dirs) add(into ?? (d === '' ? 'INBOX' : d), readMaildir(path.join(from, d)));
    return out;
  }
  if (fs.statSync(from).isFile()) {
    add(into ?? 'INBOX', parseMbox(fs.readFileSync(from)));
    return out;
  }
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, d.name);
      if (d.isDirectory()) walk(r);
      else if (d.name.endsWith('.mbox')) add(into ?? r.slice(0, -5).split(path.sep).join('/'), parseMbox(fs.readFileSync(path.join(from, r))));
    }
  };
  walk('');
  return out;
}

/**
 * The bytes the format gives back for `raw`: the same, except that mbox ends a message
 * without a final line feed with one (a separator needs a line of its own).
 */
export function expectedReadBack(fmt: Format, raw: Buffer): Buffer {
  if (fmt === 'mbox' && raw.length > 0 && raw[raw.length - 1] !== 0x0a) return Buffer.concat([raw, Buffer.from('\n')]);
  if (fmt === 'mbox' && raw.length === 0) return Buffer.from('\n');
  return raw;
}
