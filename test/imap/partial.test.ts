// RETURN (PARTIAL range) for SEARCH and SORT (RFC 9394 3.1) over raw transcripts: windows
// from the start and from the end, NIL past the result, MIN/MAX/COUNT over the whole result,
// SAVE keeping only the window, and BAD for combinations refused; then python imaplib.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, PASS, startImapServer, USER } from './client.js';

/** The ESEARCH line's items after the tag, e.g. `UID PARTIAL (1:3 2:4)`. */
function esearchItems(text: string): string {
  const m = /^\* ESEARCH \(TAG "t\d+"\) ?(.*)\r\n/m.exec(text);
  assert.ok(m, text);
  return m[1];
}

describe('IMAP RETURN (PARTIAL) (raw transcripts)', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
    await c.ok('CREATE Paged');
    for (let i = 1; i <= 7; i++) {
      const raw = message(`page ${i}`);
      await c.ok(`APPEND Paged () {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    }
    await c.ok('SELECT Paged');
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    await c.ok('EXPUNGE'); // UIDs 2..7 at sequence numbers 1..6
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('PARTIAL is advertised after login', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* PARTIAL[ \r]/m);
  });

  test('windows from the start and from the end, by UID and by sequence number', async () => {
    const cases: [string, string][] = [
      ['UID SEARCH RETURN (PARTIAL 1:3) ALL', 'UID PARTIAL (1:3 2:4)'],
      ['UID SEARCH RETURN (PARTIAL 3:1) ALL', 'UID PARTIAL (3:1 2:4)'],
      ['SEARCH RETURN (PARTIAL -1:-2) ALL', 'PARTIAL (-1:-2 5:6)'],
      ['UID SEARCH RETURN (PARTIAL -2:-100) ALL', 'UID PARTIAL (-2:-100 2:6)'],
      ['UID SEARCH RETURN (PARTIAL 5:100) NOT UID 4', 'UID PARTIAL (5:100 7)'],
      ['UID SEARCH RETURN (PARTIAL 7:9) ALL', 'UID PARTIAL (7:9 NIL)'],
      ['SEARCH RETURN (PARTIAL -1:-5) SUBJECT nothing', 'PARTIAL (-1:-5 NIL)'],
      ['UID SEARCH RETURN (MIN MAX COUNT PARTIAL 2:3) ALL', 'UID MIN 2 MAX 7 COUNT 6 PARTIAL (2:3 3:4)'],
      ['UID SEARCH RETURN (COUNT PARTIAL 1:1) SUBJECT nothing', 'UID COUNT 0 PARTIAL (1:1 NIL)'],
    ];
    for (const [command, want] of cases) assert.equal(esearchItems(await c.ok(command)), want, command);
  });

  test('SAVE with PARTIAL saves the window only', async () => {
    assert.equal(esearchItems(await c.ok('UID SEARCH RETURN (SAVE PARTIAL -1:-2) ALL')), 'UID PARTIAL (-1:-2 6:7)');
    assert.match(await c.ok('UID SEARCH UID $'), /^\* SEARCH 6 7\r\n/m);
    assert.equal(esearchItems(await c.ok('SEARCH RETURN (SAVE MIN PARTIAL 4:4) ALL')), 'MIN 1 PARTIAL (4:4 4)');
    assert.match(await c.ok('UID SEARCH $'), /^\* SEARCH 5\r\n/m);
  });

  test('SORT and UID SORT count positions in sort order', async () => {
    assert.equal(esearchItems(await c.ok('UID SORT RETURN (PARTIAL 1:2) (REVERSE ARRIVAL) UTF-8 ALL')), 'UID PARTIAL (1:2 7,6)');
    assert.equal(esearchItems(await c.ok('SORT RETURN (COUNT PARTIAL -1:-1) (REVERSE ARRIVAL) UTF-8 ALL')), 'COUNT 6 PARTIAL (-1:-1 1)');
    assert.equal(esearchItems(await c.ok('UID SORT RETURN (PARTIAL 9:10) (ARRIVAL) UTF-8 ALL')), 'UID PARTIAL (9:10 NIL)');
  });

  test('refused combinations and ranges are BAD and leave the session usable', async () => {
    const bad: [string, RegExp][] = [
      ['UID SEARCH RETURN (ALL PARTIAL 1:2) ALL', /PARTIAL and ALL cannot be combined/],
      ['UID SEARCH RETURN (UPDATE PARTIAL 1:2) ALL', /PARTIAL cannot be combined with UPDATE/],
      ['UID SEARCH RETURN (PARTIAL 0:2) ALL', /Bad PARTIAL range 0:2/],
      ['UID SEARCH RETURN (PARTIAL -1:2) ALL', /Bad PARTIAL range -1:2/],
      ['UID SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL', /PARTIAL given twice/],
      ['SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL', /Bad PARTIAL range 1:/],
    ];
    for (const [command, why] of bad) {
      const r = await c.cmd(command);
      assert.equal(r.status, 'BAD', `${command}: ${r.text}`);
      assert.match(r.tagged, why, command);
      assert.doesNotMatch(r.text, /ESEARCH/, command);
    }
    assert.equal(esearchItems(await c.ok('UID SEARCH RETURN (PARTIAL 1:1) ALL')), 'UID PARTIAL (1:1 2)');
  });

  test('FETCH and UID FETCH with the PARTIAL modifier (RFC 9394 3.2)', async () => {
    const uids = (text: string) => [...text.matchAll(/^\* (\d+) FETCH \(UID (\d+)\)\r\n/gm)].map((m) => `${m[1]}/${m[2]}`);
    assert.deepEqual(uids(await c.ok('UID FETCH 1:* (UID) (PARTIAL -1:-2)')), ['5/6', '6/7']);
    assert.deepEqual(uids(await c.ok('UID FETCH 3:* (UID) (PARTIAL 1:2)')), ['2/3', '3/4']);
    assert.deepEqual(uids(await c.ok('FETCH 2:5 (UID) (PARTIAL 2:3)')), ['3/4', '4/5']);
    assert.deepEqual(uids(await c.ok('UID FETCH 1:* (UID) (PARTIAL 10:20)')), []);
    const r = await c.cmd('UID FETCH 1:* (UID) (PARTIAL 0:2)');
    assert.equal(r.status, 'BAD', r.text);
  });

  test('python imaplib pages through UID SEARCH RETURN (PARTIAL)', () => {
    const script = [
      'import imaplib, sys',
      'm = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
      'm.login(sys.argv[2], sys.argv[3])',
      'm.select("Paged")',
      'for rng in ("1:4", "5:8", "-1:-3"):',
      '    typ, _ = m.uid("SEARCH", "RETURN", "(PARTIAL %s)" % rng, "ALL")',
      '    assert typ == "OK", typ',
      '    print(m.response("ESEARCH")[1][-1].decode())',
      'm.logout()',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, String(server.ports.imap), USER, PASS], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => l.replace(/^\(TAG "[^"]+"\) /, ''));
    assert.deepEqual(lines, ['UID PARTIAL (1:4 2:5)', 'UID PARTIAL (5:8 6:7)', 'UID PARTIAL (-1:-3 5:7)']);
  });
});
