/**
 * Maildir as Dovecot, mutt and python's `mailbox` read it: one file per message in `cur/`,
 * its flags in the name after `:2,` (D \Draft, F \Flagged, P $Forwarded, R \Answered,
 * S \Seen, T \Deleted, letters in ASCII order), keywords as the letters a–z listed in the
 * folder's `dovecot-keywords` file (`0 $Work` means `a`; 26 at most per folder, Dovecot's
 * limit too), the INTERNALDATE as the file's modification time. The file holds the stored
 * bytes unchanged.
 *
 * A tree of folders: a mailbox `A/B` is the maildir `OUT/A/B` (Dovecot's LAYOUT=fs), INBOX is
 * `OUT/INBOX`. Reading takes every directory that has a `cur/` as a mailbox named by its path.
 *
 * Never imports: the store, protocols.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MailEntry } from './mbox.js';

const LETTERS: [string, string][] = [['\\Draft', 'D'], ['\\Flagged', 'F'], ['$Forwarded', 'P'], ['\\Answered', 'R'], ['\\Seen', 'S'], ['\\Deleted', 'T']];
const KEYWORD_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Writes one folder; returns the keywords that had no letter left (more than 26). */
export function writeMaildir(dir: string, entries: (MailEntry & { name: string })[]): string[] {
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const keywords: string[] = [];
  const dropped = new Set<string>();
  for (const e of entries) {
    const letters = new Set<string>();
    for (const f of e.flags) {
      const sys = LETTERS.find(([name]) => name.toLowerCase() === f.toLowerCase());
      if (sys) {
        letters.add(sys[1]);
        continue;
      }
      if (f.startsWith('\\')) continue;
      let i = keywords.findIndex((k) => k.toLowerCase() === f.toLowerCase());
      if (i < 0 && keywords.length < KEYWORD_LETTERS.length) i = keywords.push(f) - 1;
      if (i < 0) dropped.add(f);
      else letters.add(KEYWORD_LETTERS[i]);
    }
    const file = path.join(dir, 'cur', `${e.name}:2,${[...letters].sort().join('')}`);
    fs.writeFileSync(file, e.raw);
    fs.utimesSync(file, e.internalDate, e.internalDate);
  }
  if (keywords.length > 0) fs.writeFileSync(path.join(dir, 'dovecot-keywords'), keywords.map((k, i) => `${i} ${k}\n`).join(''));
  return [...dropped];
}

function readKeywords(dir: string): string[] {
  const file = path.join(dir, 'dovecot-keywords');
  if (!fs.existsSync(file)) return [];
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) (\S+)$/.exec(line.trim());
    if (m && Number(m[1]) < KEYWORD_LETTERS.length) out[Number(m[1])] = m[2];
  }
  return out;
}

/** Flags of a maildir file name (`…:2,FS` and keyword letters). */
export function flagsOfName(name: string, keywords: string[]): string[] {
  const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
  const flags: string[] = [];
  for (const ch of info) {
    const sys = LETTERS.find(([, l]) => l === ch);
    if (sys) flags.push(sys[0]);
    else if (KEYWORD_LETTERS.includes(ch) && keywords[KEYWORD_LETTERS.indexOf(ch)]) flags.push(keywords[KEYWORD_LETTERS.indexOf(ch)]);
  }
  return flags;
}

/** The messages of one folder (`new/` then `cur/`), oldest first (modification time, then name). */
export function readMaildir(dir: string): MailEntry[] {
  const keywords = readKeywords(dir);
  const files: { file: string; name: string; mtime: Date }[] = [];
  for (const sub of ['new', 'cur']) {
    const d = path.join(dir, sub);
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) {
      if (name.startsWith('.')) continue;
      const file = path.join(d, name);
      const st = fs.statSync(file);
      if (st.isFile()) files.push({ file, name, mtime: st.mtime });
    }
  }
  files.sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files.map((f) => ({ raw: fs.readFileSync(f.file), flags: flagsOfName(f.name, keywords), internalDate: f.mtime }));
}

/** Every folder under `root` (a directory with `cur/`), named by its path with `/`; the root itself is ''. */
export function findMaildirs(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (fs.existsSync(path.join(abs, 'cur'))) out.push(rel.split(path.sep).join('/'));
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      if (d.isDirectory() && !['cur', 'new', 'tmp'].includes(d.name) && !d.name.startsWith('.')) walk(path.join(rel, d.name));
    }
  };
  walk('');
  return out.sort();
}
