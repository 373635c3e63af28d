// Message commands over raw transcripts: APPEND (literals, flags, date, APPENDUID, TRYCREATE,
// limit), FETCH items, STORE, SEARCH/ESEARCH/SEARCHRES, COPY/MOVE with COPYUID, EXPUNGE, CLOSE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

const MULTI = [
  'From: "Ann" <ann@example.test>',
  'To: alice@example.test',
  'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= report',
  'Date: Tue, 2 Jan 2024 10:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'quarterly numbers inside',
  '--b1',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--b1--',
  '',
].join('\r\n');

describe('IMAP message commands', () => {
  let server: RunningTestServer;
  let c: Imap;
  let append: (box: string, raw: string, extra?: string) => Promise<string>;
  before(async () => {
    server = await startImapServer({ MAILROOM_IMAP_MAX_LITERAL_SIZE: '100000' });
    c = await Imap.open(server.ports.imap!);
    append = async (box, raw, extra = '') => {
      const tag = c.nextTag();
      c.t.send(`${tag} APPEND ${box}${extra} {${Buffer.byteLength(raw)}}\r\n`);
      assert.equal(await c.t.readLine(), '+ Ready for literal data\r\n');
      c.t.send(`${raw}\r\n`);
      const r = await c.readTagged(tag);
      return r.tagged;
    };
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('APPEND: sync and non-sync literals, flags and date, APPENDUID; TRYCREATE; APPENDLIMIT; empty', async () => {
    assert.match(await append('INBOX', message('one')), /^OK \[APPENDUID (\d+) 1\] APPEND completed$/);
    assert.match(await append('INBOX', MULTI, ' (\\Flagged $Work) "02-Jan-2024 10:00:00 +0100"'), /^OK \[APPENDUID \d+ 2\]/);
    const raw = message('three', 'third body');
    const r = await c.cmd(`APPEND INBOX (\\Seen) {${raw.length}+}\r\n${raw}`);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 3\]/);
    const missing = message('x');
    assert.equal((await c.cmd(`APPEND Nowhere {${missing.length}+}\r\n${missing}`)).tagged, 'NO [TRYCREATE] Mailbox does not exist');
    const tag = c.nextTag();
    c.t.send(`${tag} APPEND INBOX {200000}\r\n`);
    assert.equal(await c.t.readLine(), `${tag} BAD [TOOBIG] Literal too large (limit 100000 bytes)\r\n`);
    assert.equal((await c.cmd('APPEND INBOX {0+}\r\n')).tagged, 'NO [CANNOT] Empty message');
    assert.match((await c.cmd('APPEND INBOX (\\Bogus) {3+}\r\nabc')).tagged, /^NO \[CANNOT\] unknown system flag/);
  });

  test('FETCH: FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, sections, partial, BINARY, macros', async () => {
    assert.match(await c.ok('SELECT INBOX'), /\* 3 EXISTS/);
    const fast = await c.ok('FETCH 2 FAST');
    assert.match(fast, /^\* 2 FETCH \(FLAGS \(\\Flagged \$Work \\Recent\) INTERNALDATE "02-Jan-2024 09:00:00 \+0000" RFC822\.SIZE \d+\)\r\n/);
    const env = await c.ok('FETCH 2 (ENVELOPE)');
    assert.match(env, /ENVELOPE \("Tue, 2 Jan 2024 10:00:00 \+0000" "=\?utf-8\?q\?Gr=C3=BC=C3=9Fe\?= report" \(\("Ann" NIL "ann" "example\.test"\)\)/);
    const bs = await c.ok('FETCH 2 BODYSTRUCTURE');
    assert.match(bs, /BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 24 0 NIL NIL NIL NIL\)\("application" "octet-stream" NIL NIL NIL "base64" 8 NIL NIL NIL NIL\) "mixed" \("boundary" "b1"\) NIL NIL NIL\)/);
    assert.match(await c.ok('FETCH 2 BODY'), /\* 2 FETCH \(BODY \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 24 0\)\("application" "octet-stream" NIL NIL NIL "base64" 8\) "mixed"\)\)/);
    assert.match(await c.ok('FETCH 2 BODY.PEEK[1]'), /BODY\[1\] \{24\}\r\nquarterly numbers inside\)\r\n/);
    assert.match(await c.ok('FETCH 2 BODY.PEEK[1]<10.7>'), /BODY\[1\]<10> \{7\}\r\nnumbers\)\r\n/);
    assert.match(await c.ok('FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT DATE)]'), /BODY\[HEADER\.FIELDS \(SUBJECT DATE\)\] \{\d+\}\r\nSubject: =\?utf-8\?q\?Gr=C3=BC=C3=9Fe\?= report\r\nDate: Tue, 2 Jan 2024 10:00:00 \+0000\r\n\r\n\)/);
    const bin = await c.ok('FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2])');
    assert.ok(bin.includes('BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4)'), bin);
    assert.match(await c.ok('FETCH 2 BODY.PEEK[9]'), /BODY\[9\] \{0\}\r\n\)/);
    const full = await c.ok('FETCH 1 FULL');
    assert.match(full, /FLAGS .* INTERNALDATE ".*" RFC822\.SIZE \d+ ENVELOPE \(.*\) BODY \("text" "plain"/);
    const all = await c.ok('UID FETCH 1:* (UID RFC822.HEADER)');
    assert.equal(all.match(/FETCH \(UID \d RFC822\.HEADER \{\d+\}/g)?.length, 3);
    assert.match((await c.cmd('FETCH 1 (BODY[1.MIME.X])')).tagged, /^BAD /);
  });

  test('FETCH BODY[] sets \\Seen (FLAGS reported); BODY.PEEK does not; EXAMINE never does', async () => {
    assert.doesNotMatch(await c.ok('FETCH 1 BODY.PEEK[]'), /\\Seen/);
    const text = await c.ok('FETCH 1 BODY[TEXT]');
    assert.match(text, /^\* 1 FETCH \(BODY\[TEXT\] \{13\}\r\nhello world\r\n FLAGS \(\\Seen \\Recent\)\)\r\n/);
    const rfc = await c.ok('FETCH 1 RFC822');
    assert.match(rfc, /^\* 1 FETCH \(RFC822 \{\d+\}\r\nFrom: Bob/);
  });

  test('STORE: FLAGS, +FLAGS, -FLAGS, .SILENT, keywords announced with FLAGS, UID STORE', async () => {
    assert.match(await c.ok('STORE 1 FLAGS (\\Answered)'), /^\* 1 FETCH \(FLAGS \(\\Answered \\Recent\)\)\r\nt\d+ OK STORE completed\r\n$/);
    const kw = await c.ok('STORE 1:2 +FLAGS ($Label1)');
    assert.match(kw, /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Work \$Label1\)\r\n\* OK \[PERMANENTFLAGS \(.*\$Label1 \\\*\)\] Flags permitted\r\n\* 1 FETCH \(FLAGS \(\\Answered \$Label1 \\Recent\)\)\r\n\* 2 FETCH \(FLAGS \(\\Flagged \$Work \$Label1 \\Recent\)\)\r\n/);
    assert.match(await c.ok('STORE 2 -FLAGS.SILENT ($Work)'), /^t\d+ OK STORE completed\r\n$/);
    assert.match(await c.ok('UID STORE 3 +FLAGS (\\Deleted)'), /^\* 3 FETCH \(FLAGS \(\\Seen \\Deleted \\Recent\) UID 3\)\r\n/);
    assert.match((await c.cmd('STORE 1 FLIGS (\\Seen)')).tagged, /^BAD Expected FLAGS, \+FLAGS or -FLAGS, got FLIGS/);
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Bogus)')).tagged, /^NO \[CANNOT\] unknown system flag/);
  });

  test('SEARCH: keys, OR/NOT/parentheses, CHARSET, ESEARCH, SEARCHRES $, BADCHARSET', async () => {
    assert.match(await c.ok('SEARCH ALL'), /^\* SEARCH 1 2 3\r\n/);
    assert.match(await c.ok('SEARCH FLAGGED'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH UNSEEN'), /^\* SEARCH 1 2\r\n/); // STORE FLAGS (\\Answered) cleared \\Seen on 1
    assert.match(await c.ok('SEARCH KEYWORD $Label1 NOT DELETED'), /^\* SEARCH 1 2\r\n/);
    assert.match(await c.ok('SEARCH OR SUBJECT three (FROM ann SINCE 1-Jan-2024)'), /^\* SEARCH 2 3\r\n/);
    assert.match(await c.ok('SEARCH CHARSET UTF-8 SUBJECT "grüße"'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH BODY quarterly'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH TEXT "ann@example"'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH HEADER Message-ID "<three@"'), /^\* SEARCH 3\r\n/);
    assert.match(await c.ok('SEARCH SENTON 7-Feb-1994'), /^\* SEARCH 1 3\r\n/);
    assert.match(await c.ok('SEARCH LARGER 300 SMALLER 100000'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH 2:* UID 1:2'), /^\* SEARCH 2\r\n/);
    assert.match(await c.ok('SEARCH NEW'), /^\* SEARCH 1 2\r\n/);
    assert.match(await c.ok('UID SEARCH RETURN (MIN MAX COUNT ALL) NOT DELETED'), /^\* ESEARCH \(TAG "t\d+"\) UID MIN 1 MAX 2 COUNT 2 ALL 1:2\r\n/);
    assert.match(await c.ok('SEARCH RETURN (SAVE) FLAGGED'), /^t\d+ OK SEARCH completed\r\n$/);
    assert.match(await c.ok('FETCH $ (UID)'), /^\* 2 FETCH \(UID 2\)\r\n/);
    assert.match(await c.ok('SEARCH RETURN () UID $'), /^\* ESEARCH \(TAG "t\d+"\) ALL 2\r\n/);
    assert.match((await c.cmd('SEARCH CHARSET KOI8-R ALL')).tagged, /^NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /);
    assert.match((await c.cmd('SEARCH FOO')).tagged, /^BAD Unknown search key FOO/);
  });

  test('COPY and MOVE: COPYUID, untagged OK before EXPUNGE, TRYCREATE', async () => {
    await c.ok('CREATE Work');
    assert.match(await c.ok('COPY 1:2 Work'), /^t\d+ OK \[COPYUID \d+ 1:2 1:2\] COPY completed\r\n$/);
    assert.equal((await c.cmd('COPY 1 Nowhere')).tagged, 'NO [TRYCREATE] Target mailbox does not exist');
    const moved = await c.ok('MOVE 2 Work');
    assert.match(moved, /^\* OK \[COPYUID \d+ 2 3\] Moved\r\n\* 2 EXPUNGE\r\nt\d+ OK MOVE completed\r\n$/);
    assert.match(await c.ok('UID MOVE 99 Work'), /OK UID MOVE completed, nothing to do/);
    assert.match(await c.ok('STATUS Work (MESSAGES)'), /MESSAGES 3/);
  });

  test('EXPUNGE, UID EXPUNGE and CLOSE remove only \\Deleted; UNSELECT does not', async () => {
    // now: seq 1 = uid 1, seq 2 = uid 3 (\Deleted)
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    assert.match(await c.ok('UID EXPUNGE 3'), /^\* 2 EXPUNGE\r\nt\d+ OK UID EXPUNGE completed\r\n$/);
    await c.ok('SELECT Work');
    await c.ok('STORE 1:2 +FLAGS (\\Deleted)');
    assert.match(await c.ok('EXPUNGE'), /^\* 1 EXPUNGE\r\n\* 1 EXPUNGE\r\nt\d+ OK EXPUNGE completed\r\n$/);
    await c.ok('SELECT INBOX');
    await c.ok('UNSELECT');
    assert.match(await c.ok('STATUS INBOX (MESSAGES DELETED)'), /MESSAGES 1 DELETED 1/);
    await c.ok('SELECT INBOX');
    assert.match(await c.ok('CLOSE'), /^t\d+ OK CLOSE completed\r\n$/); // silent
    assert.match(await c.ok('STATUS INBOX (MESSAGES)'), /MESSAGES 0/);
    assert.match((await c.cmd('CLOSE')).tagged, /^BAD \[CLIENTBUG\] CLOSE is not allowed without a selected mailbox/);
  });
});

