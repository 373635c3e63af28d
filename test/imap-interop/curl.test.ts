// `curl imap://` (Debian curl; .ci/apt-packages): list mailboxes and fetch a message by
// UID, in plaintext on loopback and with --ssl-reqd (STARTTLS), with AUTHENTICATE PLAIN
// and LOGIN chosen by --login-options or by curl itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { freshUser, message, startTarget, type ImapTarget } from './target.js';

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '30', ...args], { timeout: 60_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${args.filter((a) => !a.includes(':pw-')).join(' ')}: ${stderr.trim() || err.message}`));
      resolve(stdout);
    });
  });
}

const T = { timeout: 90_000 };

describe('curl imap://', () => {
  const variants: { label: string; extra: string[] }[] = [
    // curl 7.88 cannot be told to use the LOGIN command (AUTH=+LOGIN is newer); imaplib covers LOGIN.
    { label: 'plaintext on loopback, default mechanism', extra: [] },
    { label: 'plaintext on loopback, AUTHENTICATE PLAIN', extra: ['--login-options', 'AUTH=PLAIN'] },
    { label: 'STARTTLS (--ssl-reqd -k), AUTHENTICATE LOGIN', extra: ['--ssl-reqd', '-k', '--login-options', 'AUTH=LOGIN'] },
    { label: 'STARTTLS (--ssl-reqd -k), default mechanism', extra: ['--ssl-reqd', '-k'] },
  ];
  for (const { label, extra } of variants) {
    test(`${label}: list mailboxes and fetch a message by UID`, T, async () => {
      const { user, pass } = freshUser('curl');
      await target.addUser(user, pass);
      const raw = message({ subject: 'Fetched by curl', body: 'curl was here.\r\n' });
      await target.deliver(user, raw);
      const base = `imap://${target.host}:${target.imapPort}`;

      const list = await curl([...extra, '-u', `${user}:${pass}`, `${base}/`]);
      const names = list.split('\r\n').filter((l) => l.startsWith('* LIST'));
      assert.ok(names.some((l) => /"\/" "?INBOX"?$/i.test(l)), `INBOX listed: ${list}`);
      for (const mb of ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) assert.ok(names.some((l) => new RegExp(`"/" "?${mb}"?$`).test(l)), `${mb} listed`);

      const uid = /UIDNEXT (\d+)/.exec(await curl([...extra, '-u', `${user}:${pass}`, '-X', 'STATUS INBOX (UIDNEXT)', `${base}/`]))?.[1];
      assert.ok(uid, 'STATUS answered UIDNEXT');
      const fetched = await curl([...extra, '-u', `${user}:${pass}`, `${base}/INBOX;UID=${Number(uid) - 1}`]);
      assert.equal(fetched, raw, 'the exact message bytes');
    });
  }

  test('a wrong password makes curl fail (login denied)', T, async () => {
    const { user, pass } = freshUser('curlbad');
    await target.addUser(user, pass);
    await assert.rejects(curl(['-u', `${user}:nope`, `imap://${target.host}:${target.imapPort}/`]), /denied|failed|error/i);
  });
});
