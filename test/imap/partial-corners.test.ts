// PARTIAL (RFC 9394) corner cases, table-driven over raw transcripts: the FETCH modifier after
// CHANGEDSINCE (positions count over the changed messages only) and with `$`, MODSEQ of a SEARCH
// window, the largest and out-of-range windows, windows under UIDONLY, and refused repeats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

let server: RunningTestServer;
let c: Imap;
/** HIGHESTMODSEQ before messages 3, 5 and 6 (UIDs) changed flags. */
let before35: number;
/** MODSEQ of UID 6's change (the last). */
let modSeq6: number;

before(async () => {
  server = await startImapServer();
  c = await Imap.open(server.ports.imap!);
  await c.ok('CREATE Corners');
  for (let i = 1; i <= 7; i++) await c.ok(`APPEND Corners () {${Buffer.byteLength(message(`corner ${i}`))}+}\r\n${message(`corner ${i}`)}`);
  await c.ok('ENABLE CONDSTORE');
  before35 = Number(/HIGHESTMODSEQ (\d+)/.exec(await c.ok('SELECT Corners'))![1]);
  await c.ok('UID STORE 3 +FLAGS.SILENT (\\Flagged)');
  await c.ok('UID STORE 5 +FLAGS.SILENT (\\Flagged)');
  modSeq6 = Number(/MODSEQ \((\d+)\)/.exec(await c.ok('UID STORE 6 +FLAGS (\\Flagged)'))![1]);
});
after(async () => {
  c?.close();
  await server?.stop();
});

/** `uid` of each untagged FETCH (or UIDFETCH) line. */
function fetchedUids(text: string): number[] {
  return [...text.matchAll(/^\* (\d+) (UID)?FETCH \(([^\r\n]*)\)\r$/gm)].map((m) => (m[2] ? Number(m[1]) : Number(/UID (\d+)/.exec(m[3])![1])));
}

function esearchItems(text: string): string {
  const m = /^\* ESEARCH \(TAG "t\d+"\) ?(.*)\r$/m.exec(text);
  assert.ok(m, text);
  return m[1];
}

describe('PARTIAL corner cases (RFC 9394)', () => {
  test('FETCH modifiers: PARTIAL counts over what CHANGEDSINCE selects, in either order, and over $', async () => {
    await c.ok('UID SEARCH RETURN (SAVE) UID 2:6');
    const cases: [string, number[]][] = [
      [`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${before35} PARTIAL 1:1)`, [3]],
      [`UID FETCH 1:* (FLAGS) (PARTIAL -1:-1 CHANGEDSINCE ${before35})`, [6]],
      [`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${before35} PARTIAL 2:9)`, [5, 6]],
      [`UID FETCH 4:* (FLAGS) (CHANGEDSINCE ${before35} PARTIAL 1:1)`, [5]],
      [`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modSeq6} PARTIAL 1:100)`, []],
      [`FETCH 1:* (UID) (CHANGEDSINCE ${before35} PARTIAL -2:-1)`, [5, 6]],
      ['UID FETCH $ (UID) (PARTIAL -1:-2)', [5, 6]],
      ['UID FETCH $ (UID) (PARTIAL 5:5)', [6]],
      ['UID FETCH $ (UID) (PARTIAL 6:7)', []],
      ['UID FETCH 1:* (UID) (PARTIAL 4294967295:4294967294)', []],
      ['UID FETCH 1:* (UID) (PARTIAL -4294967295:-7)', [1]],
      ['UID FETCH 100:200 (UID) (PARTIAL 1:5)', []],
      ['FETCH 7,1,4 (UID) (PARTIAL 2:2)', [4]],
    ];
    for (const [cmd, want] of cases) assert.deepEqual(fetchedUids(await c.ok(cmd)), want, cmd);
  });

  test('SEARCH windows: MODSEQ of the window, NIL and whole-result windows', async () => {
    const e = (text: string) => text.replace(/[()]/g, '\\$&');
    const cases: [string, RegExp][] = [
      // the MODSEQ is the window's highest (RFC 7162 3.1.5): UID 3 changed before UID 6
      [`UID SEARCH RETURN (PARTIAL 1:1) MODSEQ ${before35 + 1}`, /^UID PARTIAL \(1:1 3\) MODSEQ (\d+)$/],
      [`UID SEARCH RETURN (PARTIAL -1:-1) MODSEQ ${before35 + 1}`, new RegExp(`^${e(`UID PARTIAL (-1:-1 6) MODSEQ ${modSeq6}`)}$`)],
      // COUNT speaks of the whole result, so its MODSEQ does too
      [`UID SEARCH RETURN (COUNT PARTIAL 1:2) MODSEQ ${before35 + 1}`, new RegExp(`^${e(`UID COUNT 3 PARTIAL (1:2 3,5) MODSEQ ${modSeq6}`)}$`)],
      ['UID SEARCH RETURN (PARTIAL -1:-4294967295) ALL', new RegExp(`^${e('UID PARTIAL (-1:-4294967295 1:7)')}$`)],
      ['UID SEARCH RETURN (PARTIAL 8:9) ALL', new RegExp(`^${e('UID PARTIAL (8:9 NIL)')}$`)],
      ['UID SEARCH RETURN (PARTIAL -8:-9) ALL', new RegExp(`^${e('UID PARTIAL (-8:-9 NIL)')}$`)],
      ['SEARCH RETURN (MIN PARTIAL 2:3) FLAGGED', new RegExp(`^${e('MIN 3 PARTIAL (2:3 5:6)')}$`)],
    ];
    for (const [cmd, want] of cases) {
      const items = esearchItems(await c.ok(cmd));
      assert.match(items, want, cmd);
      const mod = want.exec(items)?.[1];
      if (mod !== undefined) assert.ok(Number(mod) > before35 && Number(mod) < modSeq6, `${cmd}: the window's MODSEQ, not the result's`);
    }
  });

  test('refused: a repeated PARTIAL, PARTIAL with ALL or UPDATE, bad ranges; the session goes on', async () => {
    const rows: [string, RegExp][] = [
      ['UID FETCH 1:* (UID) (PARTIAL 1:2 PARTIAL 3:4)', /PARTIAL given twice/],
      ['UID FETCH 1:* (UID) (PARTIAL 0:2)', /Bad PARTIAL range/],
      ['UID FETCH 1:* (UID) (PARTIAL 1:-2)', /Bad PARTIAL range/],
      ['UID FETCH 1:* (UID) (PARTIAL 1:4294967296)', /out of range/],
      ['UID SEARCH RETURN (ALL PARTIAL 1:2) ALL', /PARTIAL and ALL/],
      ['UID SEARCH RETURN (PARTIAL 1:2 UPDATE) ALL', /UPDATE/],
      ['UID SEARCH RETURN (PARTIAL *:1) ALL', /PARTIAL range/],
    ];
    for (const [cmd, why] of rows) {
      const r = await c.cmd(cmd);
      assert.equal(r.status, 'BAD', `${cmd}: ${r.text}`);
      assert.match(r.tagged, why, cmd);
    }
    assert.deepEqual(fetchedUids(await c.ok('UID FETCH 1:* (UID) (PARTIAL 1:1)')), [1]);
  });

  test('under UIDONLY the FETCH window answers UIDFETCH and a SEARCH window holds UIDs', async () => {
    const u = await Imap.open(server.ports.imap!);
    try {
      await u.ok('ENABLE UIDONLY');
      await u.ok('SELECT Corners');
      assert.match(await u.ok('UID FETCH 1:* (FLAGS) (PARTIAL -1:-2)'), /^\* 6 UIDFETCH \(FLAGS \(\\Flagged\)\)\r\n\* 7 UIDFETCH \(FLAGS \(\)\)\r\n/);
      assert.equal(esearchItems(await u.ok('UID SEARCH RETURN (PARTIAL 1:2) FLAGGED')), 'UID PARTIAL (1:2 3,5)');
    } finally {
      u.close();
    }
  });
});
