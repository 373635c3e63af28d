// python3's imaplib with METADATA (RFC 5464) and LIST-METADATA (RFC 9590): the commands
// sent through imaplib's own machinery, its parse of the METADATA responses checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { freshUser, startTarget, type ImapTarget } from './target.js';

const script = join(repoRoot, 'test', 'imap-interop', 'py', 'metadata_client.py');

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

test('imaplib: SETMETADATA/GETMETADATA on a mailbox and the server, LIST RETURN (METADATA), RENAME keeps entries', { skip: process.env.IMAP_INTEROP_TARGET === 'dovecot' && 'Dovecot needs mail_attribute_dict' }, async () => {
  const { user, pass } = freshUser('metadata');
  await target.addUser(user, pass);
  const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
    execFile('python3', [script, target.host, String(target.imapPort), user, pass], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`metadata_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
  assert.ok(!(out.capabilities as string[]).includes('METADATA'), 'not before login');
  for (const c of ['METADATA', 'METADATA-SERVER', 'LIST-METADATA']) assert.ok((out.capabilities_after as string[]).includes(c), c);
  assert.deepEqual(out.get, ['"Labels" (/private/vendor/kolab/color "#ff0000" /shared/comment "Family labels")']);
  assert.deepEqual(out.get_depth, [], 'nothing private on the server yet');
  assert.deepEqual(out.server, ['"" (/private/vendor/client/theme "dark")']);
  assert.equal(out.list_status, 'OK');
  assert.deepEqual(out.list, ['(\\HasNoChildren) "/" "Labels"']);
  assert.deepEqual(out.list_metadata, ['"Labels" (/shared/comment "Family labels")']);
  assert.match(out.bad as string, /BAD.*Entry name needs a level/);
  assert.deepEqual(out.after_rename, ['"Tags" (/shared/comment "Family labels")']);
});
