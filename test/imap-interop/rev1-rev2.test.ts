// Raw transcripts for the two kinds of client: an IMAP4rev2 one (ENABLE IMAP4rev2,
// ESEARCH answers to SEARCH, UTF-8 mailbox names) and an IMAP4rev1 one (modified UTF-7
// names, classic SEARCH), on the same account, so each sees the other's names its way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Transcript } from '../harness/transcript.js';
import { freshUser, message, startTarget, type ImapTarget } from './target.js';

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

async function session(user: string, pass: string): Promise<{ t: Transcript; cmd: (tag: string, line: string) => Promise<string> }> {
  const t = await connect(target.imapsPort, { tls: true, timeoutMs: 15_000 });
  assert.match(await t.readLine(), /^\* OK /);
  const cmd = async (tag: string, line: string) => {
    t.send(`${tag} ${line}\r\n`);
    return t.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  };
  assert.match(await cmd('a0', `LOGIN "${user}" "${pass}"`), /a0 OK/);
  return { t, cmd };
}

const T = { timeout: 90_000 };

describe('raw transcripts: rev2 and rev1 clients', () => {
  test('rev2: ENABLE IMAP4rev2, UTF-8 names, SEARCH answered with ESEARCH', T, async () => {
    const { user, pass } = freshUser('rev2');
    await target.addUser(user, pass);
    await target.deliver(user, message({ subject: 'Angebot', from: 'Zoë <zoe@example.net>' }));
    await target.deliver(user, message({ subject: 'Lunch' }));
    await target.deliver(user, message({ subject: 'Angebot 2' }));
    const { t, cmd } = await session(user, pass);
    try {
      assert.match(await cmd('a1', 'CAPABILITY'), /^\* CAPABILITY [^\r]*\bIMAP4rev2\b/m);
      assert.match(await cmd('a2', 'ENABLE IMAP4rev2'), /^\* ENABLED IMAP4rev2\r\na2 OK/m);
      assert.match(await cmd('a3', 'CREATE "Reisen für 2026"'), /a3 OK/);
      const list = await cmd('a4', 'LIST "" "Reisen*"');
      assert.match(list, /^\* LIST \([^)]*\) "\/" "Reisen für 2026"\r\n/m, 'UTF-8 name as it is (RFC9051 5.1)');
      assert.match(await cmd('a5', 'SELECT "Reisen für 2026"'), /a5 OK \[READ-WRITE\]/);
      const sel = await cmd('a6', 'SELECT INBOX');
      assert.match(sel, /^\* 3 EXISTS\r\n/m);
      assert.doesNotMatch(sel, /\bRECENT\b/, 'no RECENT response in rev2 (RFC9051 7.4)');
      const search = await cmd('a7', 'SEARCH SUBJECT "Angebot"');
      assert.match(search, /^\* ESEARCH \(TAG "a7"\) ALL 1,3\r\n/m, 'SEARCH in rev2 answers ESEARCH (RFC9051 6.4.4)');
      assert.doesNotMatch(search, /^\* SEARCH/m);
      const uidSearch = await cmd('a8', 'UID SEARCH RETURN (MIN MAX COUNT) ALL');
      const m = /^\* ESEARCH \(TAG "a8"\) UID ([^\r]*)\r\n/m.exec(uidSearch);
      assert.ok(m, `UID ESEARCH: ${uidSearch}`);
      const items = Object.fromEntries(m[1].match(/\S+ \S+/g)!.map((p) => p.split(' ')));
      assert.equal(items.COUNT, '3');
      assert.ok(Number(items.MIN) < Number(items.MAX));
      assert.match(await cmd('a9', 'SEARCH FROM "Zoë"'), /^\* ESEARCH \(TAG "a9"\) ALL 1\r\n/m, 'UTF-8 search string without CHARSET in rev2');
      assert.match(await cmd('a10', 'SEARCH SUBJECT "nothing like this"'), /^\* ESEARCH \(TAG "a10"\)\r\n/m, 'empty result: only the tag');
    } finally {
      t.close();
    }
  });

  test('rev1: modified UTF-7 names both ways; SEARCH untagged; ESEARCH only with RETURN', T, async () => {
    const { user, pass } = freshUser('rev1');
    await target.addUser(user, pass);
    await target.deliver(user, message({ subject: 'one' }));
    await target.deliver(user, message({ subject: 'two' }));
    const rev2 = await session(user, pass);
    await rev2.cmd('b1', 'ENABLE IMAP4rev2');
    assert.match(await rev2.cmd('b2', 'CREATE "日本語/Größe"'), /b2 OK/);
    rev2.t.close();

    const { t, cmd } = await session(user, pass);
    try {
      const list = await cmd('c1', 'LIST "" "*"');
      assert.match(list, /^\* LIST \([^)]*\) "\/" "?&ZeVnLIqe-"?\r\n/m, 'parent of a UTF-8 name, as mUTF-7');
      assert.match(list, /^\* LIST \([^)]*\) "\/" "?&ZeVnLIqe-\/Gr&APYA3w-e"?\r\n/m, 'child in mUTF-7 (RFC3501 5.1.3)');
      assert.match(await cmd('c2', 'CREATE "Entw&APw-rfe"'), /c2 OK/);
      assert.match(await cmd('c3', 'STATUS "Entw&APw-rfe" (MESSAGES)'), /^\* STATUS "?Entw&APw-rfe"? \(MESSAGES 0\)\r\n/m);
      assert.match(await cmd('c4', 'SELECT INBOX'), /^\* 2 EXISTS\r\n[\s\S]*^\* 2 RECENT\r\n|^\* 2 RECENT\r\n[\s\S]*^\* 2 EXISTS\r\n/m);
      assert.match(await cmd('c5', 'SEARCH ALL'), /^\* SEARCH 1 2\r\nc5 OK/m);
      assert.match(await cmd('c6', 'SEARCH RETURN (COUNT) ALL'), /^\* ESEARCH \(TAG "c6"\) COUNT 2\r\n/m, 'ESEARCH (RFC4731) when asked');
      assert.match(await cmd('c7', 'SEARCH CHARSET UTF-8 SUBJECT "two"'), /^\* SEARCH 2\r\n/m);
      const rename = await cmd('c8', 'RENAME "Entw&APw-rfe" "Entw&APw-rfe/Alt"');
      assert.match(rename, /c8 (OK|NO)/, 'rename into own child: OK or a clear NO, never BAD');
    } finally {
      t.close();
    }

    const again = await session(user, pass);
    try {
      await again.cmd('d1', 'ENABLE IMAP4rev2');
      assert.match(await again.cmd('d2', 'LIST "" "Entw*"'), /^\* LIST \([^)]*\) "\/" "Entwürfe"/m, 'a rev1-made name reads as UTF-8 in rev2');
    } finally {
      again.t.close();
    }
  });
});
