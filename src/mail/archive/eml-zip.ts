/**
 * eml-zip: one zip file holding each message as `MAILBOX/000001.eml` (the stored bytes) and
 * `mailroom-index.json`, the small index that carries what an .eml cannot: the mailbox,
 * flags and keywords, and INTERNALDATE of each file. A zip of .eml files made by anything
 * else (no index) still imports: the folder is the mailbox (top level: INBOX), no flags,
 * the entry's time as the received date.
 */
import type { MailEntry } from './mbox.js';
import { ZipReader, ZipWriter } from './zip.js';

export const INDEX = 'mailroom-index.json';

interface IndexEntry {
  file: string;
  mailbox: string;
  flags: string[];
  internalDate: string;
}

interface Index {
  format: 'mailroom-eml-zip';
  version: 1;
  messages: IndexEntry[];
}

export function writeEmlZip(file: string, boxes: { mailbox: string; entries: MailEntry[] }[]): void {
  const zip = new ZipWriter(file);
  try {
    const index: Index = { format: 'mailroom-eml-zip', version: 1, messages: [] };
    for (const box of boxes) {
      box.entries.forEach((e, i) => {
        const name = `${box.mailbox}/${String(i + 1).padStart(6, '0')}.eml`;
        zip.add(name, e.raw, e.internalDate);
        index.messages.push({ file: name, mailbox: box.mailbox, flags: e.flags, internalDate: e.internalDate.toISOString() });
      });
    }
    zip.add(INDEX, Buffer.from(JSON.stringify(index, null, 1)), new Date());
    zip.close();
  } catch (err) {
    zip.abort();
    throw err;
  }
}

/** mailbox → entries, in archive order; `into` puts everything into one mailbox. */
export function readEmlZip(file: string, into: string | undefined): Map<string, MailEntry[]> {
  const zip = new ZipReader(file);
  try {
    const byName = new Map(zip.entries.map((e) => [e.name, e]));
    const out = new Map<string, MailEntry[]>();
    const add = (mailbox: string, e: MailEntry) => {
      const key = into ?? mailbox;
      out.set(key, [...(out.get(key) ?? []), e]);
    };
    const indexEntry = byName.get(INDEX);
    if (indexEntry) {
      const index = JSON.parse(zip.read(indexEntry).toString('utf8')) as Index;
      if (index.format !== 'mailroom-eml-zip' || !Array.isArray(index.messages)) throw new Error(`${INDEX} in ${file} is not a mailroom index`);
      for (const m of index.messages) {
        const entry = byName.get(m.file);
        if (!entry) throw new Error(`${file}: ${m.file} is in the index but not in the archive`);
        const date = new Date(m.internalDate);
        add(m.mailbox, { raw: zip.read(entry), flags: Array.isArray(m.flags) ? m.flags.map(String) : [], internalDate: Number.isNaN(date.getTime()) ? entry.modified : date });
      }
      return out;
    }
    for (const e of zip.entries) {
      if (e.isDirectory || !/\.eml$/i.test(e.name)) continue;
      const slash = e.name.lastIndexOf('/');
      add(slash < 0 ? 'INBOX' : e.name.slice(0, slash), { raw: zip.read(e), flags: [], internalDate: e.modified });
    }
    return out;
  } finally {
    zip.close();
  }
}
