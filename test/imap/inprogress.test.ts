// INPROGRESS (RFC 9585) over raw transcripts: with a short interval, long SEARCH, SORT,
// THREAD, COPY and MOVE send `* OK [INPROGRESS ("tag" done total)]` before their result,
// never after it; counts never exceed the total.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { execFile } from 'node:child_process';
import { Imap, PASS, startImapServer, USER } from './client.js';

const COUNT = 120;

describe('IMAP INPROGRESS', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer({ MAILROOM_IMAP_INPROGRESS_MS: '1' });
    c = await Imap.open(server.ports.imap!);
    await c.ok('CREATE Big');
    for (let i = 1; i <= COUNT; i++) {
      const raw = `From: bob@example.test\r\nTo: ${USER}\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@x>\r\n${i > 1 ? `References: <m${i - 1}@x>\r\n` : ''}\r\nbody ${i} ${'word '.repeat(50)}\r\n`;
      await c.ok(`APPEND Big {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    }
    await c.ok('CREATE Other');
    await c.ok('SELECT Big');
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  /** The INPROGRESS lines of a command's output; each names its tag and sane counts, all before the result line. */
  function progressOf(text: string, result: RegExp): string[] {
    const lines = text.split('\r\n');
    const at = lines.findIndex((l) => result.test(l));
    const prog = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('* OK [INPROGRESS'));
    for (const [l, i] of prog) {
      const m = /^\* OK \[INPROGRESS \("(t\d+)" (NIL|\d+) (NIL|\d+)\)\] /.exec(l);
      assert.ok(m, l);
      assert.ok(text.endsWith(`\r\n`) && text.includes(`${m[1]} OK`), 'the tag of this command');
      if (m[2] !== 'NIL') assert.ok(Number(m[2]) <= Number(m[3]), l);
      if (at >= 0) assert.ok(i < at, 'before the result');
    }
    return prog.map(([l]) => l);
  }

  test('advertised', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* INPROGRESS /m);
  });

  test('ESEARCH IN (personal) (MULTISEARCH) reports progress in mailboxes before its results', async () => {
    let reported: string[] = [];
    for (let i = 0; i < 30 && reported.length === 0; i++) {
      const text = await c.ok('ESEARCH IN (personal) RETURN (COUNT) BODY word');
      reported = progressOf(text, /^t\d+ OK /); // between mailboxes' results too, each line whole, never after the tagged OK
      assert.match(text, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+" MAILBOX "Big" UIDVALIDITY \\d+\\) UID COUNT ${COUNT}\r\n`, 'm'));
    }
    assert.ok(reported.length > 0, 'a body search of every mailbox is long enough to report at least once in 30 runs');
    // counted in mailboxes: done < total, and the total is the number of the user's mailboxes
    const boxes = (await c.ok('LIST "" *')).split('\r\n').filter((l) => l.startsWith('* LIST ')).length;
    for (const l of reported) assert.match(l, new RegExp(`\\("t\\d+" (NIL NIL|[0-9]+ ${boxes})\\)`), l);
  });

  test('SEARCH, SORT and THREAD report progress before their result', async () => {
    const s = await c.ok('SEARCH BODY word');
    progressOf(s, /^\* SEARCH /);
    assert.match(s, new RegExp(`^\\* SEARCH 1:${COUNT}|^\\* SEARCH 1 2 3`, 'm'));
    // A run may end before the first 1 ms tick (warm caches, a fast machine): ask until one reports.
    let reported = 0;
    // THREAD of ALL reads its keys in one query now (schema 22), often within the tick; a THREAD
    // over a body search checks every message's text first, as a slow THREAD does.
    for (let i = 0; i < 30 && reported === 0; i++) reported = progressOf(await c.ok('THREAD REFERENCES UTF-8 BODY word'), /^\* THREAD /).length;
    assert.ok(reported > 0, 'THREAD over a body search is long enough to report at least once in 30 runs');
    progressOf(await c.ok('THREAD REFERENCES UTF-8 ALL'), /^\* THREAD /);
    progressOf(await c.ok('SORT (SUBJECT) UTF-8 BODY word'), /^\* SORT /);
  });

  test('COPY and MOVE report liveness with NIL counts', async () => {
    const copy = await c.ok('COPY 1:* Other');
    for (const l of progressOf(copy, /^t\d+ OK/)) assert.match(l, /\(("t\d+") NIL NIL\)/);
    const move = await c.ok('MOVE 1:10 Other');
    progressOf(move, /^\* OK \[COPYUID/);
  });

  test('python imaplib takes the INPROGRESS lines in its stride and records them', async () => {
    const py = [
      'import imaplib, sys',
      'M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); M.login(sys.argv[2], sys.argv[3])',
      'M.select("Big", readonly=True)',
      // A run answered from warm caches may end before the first 1 ms tick: ask until one reported.
      'for i in range(30):',
      '    typ, dat = M.thread("REFERENCES", "UTF-8", "ALL")',
      '    M.search(None, "BODY", "word")',
      '    if M.untagged_responses.get("INPROGRESS"): break',
      'print(typ, len(dat[0]) > 0)',
      'print(M.untagged_responses.get("INPROGRESS", [])[:1])',
      'M.logout()',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', py, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    const [result, progress] = out.trim().split('\n');
    assert.equal(result, 'OK True');
    // Counts are NIL while the command is still reading (RFC 9585 allows it), numbers once evaluating.
    assert.match(progress, /^\[b'\("[A-Z0-9]+" (\d+ \d+|NIL NIL)\)'\]$/);
  });
});

describe('IMAP INPROGRESS off', () => {
  test('imap.inprogress_ms = 0 sends none', async () => {
    const server = await startImapServer({ MAILROOM_IMAP_INPROGRESS_MS: '0' });
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('SELECT INBOX');
      assert.doesNotMatch(await c.ok('SEARCH ALL'), /INPROGRESS/);
    } finally {
      c.close();
      await server.stop();
    }
  });
});
