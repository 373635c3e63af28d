// python3's imaplib with CATENATE (RFC 4469): APPEND ... CATENATE (URL ... URL ...) through
// imaplib's own command machinery; the built message and [BADURL] checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { freshUser, startTarget, type ImapTarget } from './target.js';

const script = join(repoRoot, 'test', 'imap-interop', 'py', 'catenate_client.py');

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

test('imaplib: APPEND CATENATE with an absolute-path URL to a header and a relative URL to a body; BADURL', async () => {
  const { user, pass } = freshUser('catenate');
  await target.addUser(user, pass);
  const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
    execFile('python3', [script, target.host, String(target.imapPort), user, pass], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`catenate_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
  assert.ok((out.capabilities as string[]).includes('CATENATE'));
  assert.equal((out.append as [string])[0], 'OK');
  assert.equal(out.message, 'From: py@example.test\r\nSubject: head source\r\nMessage-ID: <head@example.test>\r\n\r\nthe body text\r\n');
  const [typ, dat] = out.bad as [string, string[]];
  assert.equal(typ, 'NO');
  assert.match(dat.join(' '), /^\[BADURL \/INBOX\/;UID=999\]/);
});
