// python3's imaplib against the IMAP behaviours an independent compliance suite found wrong
// (issue 9): NO (never BAD) for names that do not exist or are not modified UTF-7, LSUB "%"
// with an unsubscribed parent, LIST (SUBSCRIBED RECURSIVEMATCH) as in RFC 5258 example 9,
// MOVE/COPY into the selected mailbox, SEARCH CC by parsed address, \Recent after DELETE and
// CREATE across two sessions, OBJECTID. IMAP_INTEROP_TARGET=dovecot runs it against Dovecot,
// to check the expectations against a reference server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { freshUser, startTarget, type ImapTarget } from './target.js';

const script = join(repoRoot, 'test', 'imap-interop', 'py', 'compliance_client.py');

interface PyResult {
  capabilities: string[];
  names: Record<string, string>;
  lsub_percent: string[];
  recursivematch: string[];
  move_self: { status: string; copyuid: string[]; expunge: string[]; exists: string[] };
  copy_self: { status: string; exists: string[] };
  uids_after: string[];
  search_cc: string[];
  search_cc_name: string[];
  recent_first: string[];
  recent_first_search: string[];
  recent_second: string[];
  recent_second_search: string[];
  mailboxid?: string[];
  emailid?: string[];
}

function runPython(args: string[]): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', [script, ...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`compliance_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as PyResult);
    });
  });
}

/** A LIST/LSUB line with its mailbox name unquoted (servers quote names as they like). */
const unquoted = (l: string) => l.replace(/ "\/" "([^"]*)"/, ' "/" $1');
/** LIST/LSUB lines without the \HasChildren/\HasNoChildren a server may add on its own (RFC 5258 4). */
const withoutChildren = (lines: string[]) =>
  lines.map((l) => unquoted(l).replace(/\\Has(No)?Children ?/g, '').replace(/ \)/, ')').replace('(CHILDINFO (', '("CHILDINFO" (')).sort();

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

describe('python imaplib: issue 9 behaviours', () => {
  test('names, LSUB/LIST subscriptions, MOVE/COPY into the selected mailbox, address SEARCH, \\Recent, OBJECTID', { timeout: 120_000 }, async () => {
    const { user, pass } = freshUser('pycompliance');
    await target.addUser(user, pass);
    const r = await runPython([target.host, String(target.imapsPort), user, pass]);

    for (const [what, status] of Object.entries(r.names)) assert.notEqual(status, 'BAD', `${what} must not be BAD`);
    assert.deepEqual(r.names, {
      select_undecodable: 'NO',
      select_missing: 'NO',
      status_undecodable: 'NO',
      create_undecodable: 'NO',
      list_undecodable: 'OK',
      lsub_undecodable: 'OK',
    });
    assert.deepEqual(r.lsub_percent.map(unquoted), ['(\\Noselect) "/" deep/a']);
    assert.deepEqual(
      withoutChildren(r.recursivematch),
      [
        '() "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))',
        '(\\Subscribed) "/" foo2/bar2',
        '(\\Subscribed) "/" baz2/bar2',
        '(\\Subscribed) "/" baz2/bar22',
        '(\\Subscribed) "/" baz2/bar222',
        '(\\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))',
        '(\\Subscribed) "/" qux2/bar2',
      ].sort(),
    );
    assert.equal(r.move_self.status, 'OK');
    assert.deepEqual(r.move_self.expunge, ['2']);
    assert.deepEqual(r.move_self.exists, ['3']);
    assert.equal(r.copy_self.status, 'OK');
    assert.deepEqual(r.copy_self.exists, ['4']);
    assert.deepEqual(r.uids_after, ['1', '3', '4', '5']);
    assert.deepEqual(r.search_cc, ['5']);
    assert.deepEqual(r.search_cc_name, ['5']);
    assert.deepEqual(r.recent_first, ['1']);
    assert.deepEqual(r.recent_first_search, ['1']);
    assert.deepEqual(r.recent_second, ['0']);
    assert.deepEqual(r.recent_second_search, ['1']);
    if (target.name === 'mailroom') {
      for (const c of ['OBJECTID', 'PREVIEW', 'SAVEDATE', 'WITHIN', 'MOVE']) assert.ok(r.capabilities.includes(c), `${c} advertised`);
      assert.match(r.mailboxid?.[0] ?? '', /^"?Self"? \(MAILBOXID \([A-Za-z0-9_-]+\)\)$/);
      assert.match(r.emailid?.[0] ?? '', /^1 \(EMAILID \([A-Za-z0-9_-]+\) THREADID \([A-Za-z0-9_-]+\)\)$/);
    }
  });
});
