/**
 * What `import-imap` has already copied, so a second run copies only what is missing.
 *
 * Identity is the old server's (mailbox, UIDVALIDITY, UID): the one thing IMAP promises
 * never to reuse for other bytes. Message-ID or size+date would merge distinct messages
 * (no Message-ID, the same message twice in one folder) or miss ones a server rewrote.
 *
 * An append-only file of tab-separated lines (mailbox names URI-encoded), fsynced per line, so each message costs one
 * small write however large the mailbox:
 *   P box uidvalidity olduid sha256   — about to append this message
 *   C box uidvalidity olduid newuid   — appended; Mailroom gave it newuid
 * A P without its C (killed between the two) is settled on the next run by looking for
 * those exact bytes in the target mailbox (see settlePending in imap-import.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Pending {
  box: string;
  uidValidity: number;
  oldUid: number;
  sha256: string;
}

function key(box: string, uidValidity: number): string {
  return `${uidValidity}\t${box}`;
}

export class ImportJournal {
  /** box+uidvalidity → old UID → new UID */
  private readonly copied = new Map<string, Map<number, number>>();
  private readonly pending = new Map<string, Pending>();
  private readonly fd: number;

  private constructor(readonly file: string) {
    if (fs.existsSync(file)) this.load(fs.readFileSync(file, 'utf8'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  static open(file: string): ImportJournal {
    return new ImportJournal(file);
  }

  private load(text: string): void {
    for (const line of text.split('\n')) {
      const f = line.split('\t');
      // A torn last line (killed mid-write) has too few fields: ignored, that message is copied again.
      if (f.length !== 5) continue;
      const [kind, encodedBox, uv, old, last] = f;
      const box = decodeURIComponent(encodedBox);
      const k = key(box, Number(uv));
      if (kind === 'P') this.pending.set(`${k}\t${old}`, { box, uidValidity: Number(uv), oldUid: Number(old), sha256: last });
      else if (kind === 'C') {
        this.pending.delete(`${k}\t${old}`);
        this.uids(k).set(Number(old), Number(last));
      }
    }
  }

  private uids(k: string): Map<number, number> {
    let m = this.copied.get(k);
    if (!m) this.copied.set(k, (m = new Map()));
    return m;
  }

  private write(fields: (string | number)[]): void {
    fs.writeSync(this.fd, `${fields.join('\t')}\n`);
    fs.fdatasyncSync(this.fd);
  }

  /** Old UID → new UID of what was copied from this mailbox under this UIDVALIDITY. */
  copiedFrom(box: string, uidValidity: number): ReadonlyMap<number, number> {
    return this.uids(key(box, uidValidity));
  }

  /** Any copy recorded from this mailbox under another UIDVALIDITY (the old server renumbered it). */
  hasOtherValidity(box: string, uidValidity: number): boolean {
    for (const [k, m] of this.copied) if (m.size > 0 && k.endsWith(`\t${box}`) && k !== key(box, uidValidity)) return true;
    return false;
  }

  /** Appends interrupted between P and C lines, for this mailbox. */
  pendingIn(box: string, uidValidity: number): Pending[] {
    return [...this.pending.values()].filter((p) => p.box === box && p.uidValidity === uidValidity);
  }

  begin(p: Pending): void {
    this.write(['P', encodeURIComponent(p.box), p.uidValidity, p.oldUid, p.sha256]);
    this.pending.set(`${key(p.box, p.uidValidity)}\t${p.oldUid}`, p);
  }

  done(box: string, uidValidity: number, oldUid: number, newUid: number): void {
    this.write(['C', encodeURIComponent(box), uidValidity, oldUid, newUid]);
    this.pending.delete(`${key(box, uidValidity)}\t${oldUid}`);
    this.uids(key(box, uidValidity)).set(oldUid, newUid);
  }

  /** An interrupted append that never reached the store: forget it. */
  drop(p: Pending): void {
    this.pending.delete(`${key(p.box, p.uidValidity)}\t${p.oldUid}`);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
