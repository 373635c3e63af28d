// python3's imaplib, an IMAP4rev1 client, in both TLS modes (STARTTLS on the plain
// port, implicit TLS with an unverified context): login, list, select, search,
// fetch (RFC822, BODY.PEEK[HEADER], BODYSTRUCTURE), store, copy, expunge, logout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { freshUser, message, startTarget, type ImapTarget } from './target.js';

const script = join(repoRoot, 'test', 'imap-interop', 'py', 'imaplib_client.py');

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

interface PyResult {
  capabilities: string[];
  login: string;
  list: string[];
  select: string;
  exists: number;
  search_all: string[];
  search_subject: string[];
  uids: string[];
  rfc822_subject: string;
  rfc822_body: string;
  header: string;
  bodystructure: string[];
  flags_after_fetch: string[];
  store: string[];
  copy: string;
  copy_response: string[];
  expunge: string[];
  after_expunge: string[];
  archive_status: string;
  logout: string;
  highestmodseq: number;
  condstore_store: string[];
  changedsince: string[];
  search_modseq: string;
  unchangedsince: string[];
  modified: string;
}

function runPython(args: string[]): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', [script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`imaplib_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as PyResult);
    });
  });
}

describe('python imaplib (IMAP4rev1)', () => {
  for (const mode of ['starttls', 'ssl'] as const) {
    test(`${mode}: the whole session works and answers what a rev1 client expects`, { timeout: 120_000 }, async () => {
      const { user, pass } = freshUser(`py${mode}`);
      await target.addUser(user, pass);
      await target.deliver(user, message({ subject: 'Hello from imaplib', body: 'First body.\r\n' }));
      await target.deliver(user, message({ subject: 'Second message', body: 'Second body.\r\n' }));
      const r = await runPython([mode, target.host, String(mode === 'ssl' ? target.imapsPort : target.imapPort), user, pass]);

      assert.ok(r.capabilities.includes('IMAP4REV1'), 'IMAP4rev1 advertised');
      assert.equal(r.login, 'OK');
      assert.ok(r.list.some((l) => /\) "\/" "?INBOX"?$/i.test(l)), `INBOX listed with "/" delimiter: ${r.list.join(' | ')}`);
      assert.ok(r.list.some((l) => /\\Sent/.test(l) && /Sent"?$/.test(l)), 'Sent listed with \\Sent');
      assert.equal(r.select, 'OK');
      assert.equal(r.exists, 2);
      assert.deepEqual(r.search_all, ['1', '2']);
      assert.deepEqual(r.search_subject, ['2']);
      assert.equal(r.uids.length, 2);
      assert.equal(r.rfc822_subject, 'Hello from imaplib');
      assert.equal(r.rfc822_body, 'First body.\r\n');
      assert.match(r.header, /^From: Alice Example <alice@example.net>\r\n/);
      assert.match(r.header, /Subject: Second message\r\n/);
      assert.ok(r.header.endsWith('\r\n\r\n'), 'BODY[HEADER] ends with the blank line');
      assert.equal(r.bodystructure.length, 2);
      assert.match(r.bodystructure[0], /^1 \(BODYSTRUCTURE \("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 13 1 /i);
      // FETCH RFC822 sets \Seen on message 1 (RFC3501 6.4.5); BODY.PEEK leaves message 2 unseen.
      assert.match(r.flags_after_fetch[0], /^1 \(FLAGS \(.*\\Seen.*\)\)$/);
      assert.doesNotMatch(r.flags_after_fetch[1], /\\Seen/);
      assert.ok(r.store.some((l) => /^2 \(FLAGS \(.*\\Flagged.*\)\)$/.test(l) && l.includes('$label1')), `STORE answers the new flags: ${r.store.join(' | ')}`);
      assert.equal(r.copy, 'OK');
      assert.deepEqual(r.expunge, ['1'], 'untagged EXPUNGE 1');
      assert.equal(r.after_expunge.length, 1);
      assert.match(r.after_expunge[0], new RegExp(`^1 \\(UID ${r.uids[1]} FLAGS \\(|^1 \\(FLAGS \\(.*\\) UID ${r.uids[1]}\\)`));
      assert.match(r.archive_status, /MESSAGES 2\b/);
      assert.match(r.archive_status, /UNSEEN 1\b/);
      // CONDSTORE (RFC 7162), used by hand as a rev1 client would
      const u2 = r.uids[1];
      const m = r.highestmodseq + 1;
      assert.ok(r.highestmodseq > 1);
      assert.equal(r.condstore_store.length, 1);
      assert.match(r.condstore_store[0], new RegExp(`^1 \\(FLAGS \\([^)]*\\\\Answered[^)]*\\) UID ${u2}\\)$`));
      assert.deepEqual(r.changedsince, [r.condstore_store[0].replace(/\)$/, ` MODSEQ (${m}))`)]);
      assert.equal(r.search_modseq, `${u2} (MODSEQ ${m})`);
      assert.deepEqual(r.unchangedsince, ['OK']);
      assert.equal(r.modified, u2);
      assert.equal(r.logout, 'BYE');
    });
  }
});
