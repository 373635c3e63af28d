// FETCH of FLAGS and UID only (commands/fetch-flags.ts: index spans of the view, lines
// written as bytes), over a real socket, against a model of the mailbox kept by the test:
// every line of the answer, byte for byte, for sets by number and by UID (`*`, reversed
// ranges, repeats, UID gaps, `$`, PARTIAL), with \Recent, keywords, a flag list longer than
// a write chunk, CONDSTORE, IMAP4rev2 and UIDONLY sessions, and while another session's
// flag changes, expunge and deliveries are read but not yet announced (RFC 9051 7.5.1: the
// numbering stays; RFC 2180 4.1.1: a message expunged elsewhere is still served).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

const BOX = 'FlagsBox';
const FLAG_LISTS = ['', '\\Seen', '\\Seen \\Answered', '$Label', '\\Flagged $label Work', 'Junk \\Seen', '\\Draft', '\\Deleted \\Seen'];
/** Over 16 KB of keywords: more than the first write chunk holds. */
const LONG_KEYWORDS = Array.from({ length: 100 }, (_, i) => `kw${i}_${'x'.repeat(190)}`);

/** What one session sees: UIDs in sequence order, the flags of each, which are \Recent for it. */
interface SessionModel {
  seqs: number[];
  recent: Set<number>;
  rev2: boolean;
  uidOnly: boolean;
}

/** Every number of a sequence set in 1..max, ascending, once (RFC 9051 9; `*` is max, n:m = m:n). */
function members(set: string, max: number): number[] {
  const out = new Set<number>();
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map((x) => (x === '*' ? max : Number(x)));
    for (let n = Math.min(a, b); n <= Math.max(a, b) && n <= max; n++) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

describe('FETCH FLAGS/UID from the view, against a model', () => {
  let server: RunningTestServer;
  let a: Imap; // rev1, the first to select: every message \Recent for it
  let b: Imap; // makes changes
  let c: Imap; // delivers (APPEND), selects nothing
  /** UID → flags as stored, in the store's order (first use kept, additions appended). */
  const flags = new Map<number, string[]>();
  const modelA: SessionModel = { seqs: [], recent: new Set(), rev2: false, uidOnly: false };

  let appended = 0;
  const append = async (flagText: string): Promise<number> => {
    const raw = message(`m${++appended}`); // each different: an APPEND of the same bytes again is answered with the first UID
    const r = await c.ok(`APPEND ${BOX} (${flagText}) {${raw.length}+}\r\n${raw}`);
    const uid = Number(/APPENDUID \d+ (\d+)/.exec(r)![1]);
    flags.set(uid, flagText === '' ? [] : flagText.split(' '));
    return uid;
  };

  /** The model's FETCH lines for `command` as session `m` must answer it. */
  function expected(m: SessionModel, command: string): string {
    const match = /^(UID )?FETCH (\S+) \(?([A-Z ]+?)\)?(?: \(PARTIAL (\d+):(\d+)\))?$/.exec(command);
    assert.ok(match, command);
    const [, uidCmd, set, itemText, lo, hi] = match;
    const items = itemText.split(' ');
    if (uidCmd && !m.uidOnly && !items.includes('UID')) items.push('UID'); // RFC 9051 6.4.9
    let seqs = uidCmd
      ? members(set, Math.max(0, ...m.seqs)).map((u) => m.seqs.indexOf(u) + 1).filter((s) => s > 0)
      : members(set, m.seqs.length);
    if (lo) seqs = seqs.slice(Number(lo) - 1, Number(hi));
    return seqs
      .map((seq) => {
        const uid = m.seqs[seq - 1];
        const f = [...flags.get(uid)!, ...(m.recent.has(uid) && !m.rev2 ? ['\\Recent'] : [])];
        const parts = items.map((i) => (i === 'UID' ? `UID ${uid}` : `FLAGS (${f.join(' ')})`));
        return m.uidOnly ? `* ${uid} UIDFETCH (${parts.join(' ')})\r\n` : `* ${seq} FETCH (${parts.join(' ')})\r\n`;
      })
      .join('');
  }

  /** Runs `command`, checks its FETCH lines are exactly the model's; returns what was announced after them. */
  async function check(session: Imap, m: SessionModel, command: string): Promise<string> {
    const r = await session.cmd(command);
    assert.equal(r.status, 'OK', `${command}: ${r.text.slice(-200)}`);
    const want = expected(m, command);
    if (r.text.slice(0, want.length) !== want) {
      // the first line that differs, shortened: a flag list here may be 20 KB
      const [got, exp] = [r.text.split('\r\n'), want.split('\r\n')];
      const i = exp.findIndex((line, k) => line !== got[k]);
      assert.fail(`${command}: line ${i + 1} is ${JSON.stringify(got[i]?.slice(0, 300))}, the model says ${JSON.stringify(exp[i]?.slice(0, 300))}`);
    }
    const rest = r.text.slice(want.length);
    const tagged = rest.lastIndexOf('\r\n', rest.length - 3);
    return tagged < 0 ? '' : rest.slice(0, tagged + 2);
  }

  const SETTLED = [
    'UID FETCH 1:* (FLAGS)',
    'UID FETCH 1:* FLAGS',
    'FETCH 1:* (FLAGS)',
    'FETCH 1:* (UID FLAGS)',
    'FETCH 1:* (FLAGS UID)',
    'FETCH 1:* UID',
    'UID FETCH 1:* (UID)',
    'UID FETCH *:4 (FLAGS)',
    'UID FETCH 3:4 (FLAGS)',
    'UID FETCH 2,9:6,1,2,9 (FLAGS)',
    'UID FETCH 1000:* (FLAGS)',
    'UID FETCH 1000:2000 (FLAGS)',
    'FETCH 3,1:2,2 (FLAGS)',
    'FETCH *:2 (FLAGS)',
    'FETCH * (FLAGS)',
    'UID FETCH 1:* (FLAGS) (PARTIAL 2:4)',
    'FETCH 2:* (UID FLAGS) (PARTIAL 1:3)',
  ];

  before(async () => {
    server = await startImapServer();
    [a, b, c] = await Promise.all([Imap.open(server.ports.imap!), Imap.open(server.ports.imap!), Imap.open(server.ports.imap!)]);
    await c.ok(`CREATE ${BOX}`);
    for (let i = 0; i < 14; i++) await append(FLAG_LISTS[i % FLAG_LISTS.length]);
    await a.ok(`SELECT ${BOX}`);
    modelA.seqs = [...flags.keys()];
    modelA.recent = new Set(flags.keys());
    await b.ok(`SELECT ${BOX}`);
    // UID gaps: 3, 4 and 8 leave, announced to a at its next command
    await b.ok('UID STORE 3:4,8 +FLAGS.SILENT (\\Deleted)');
    await b.ok('UID EXPUNGE 3:4,8');
    for (const u of [3, 4, 8]) flags.delete(u);
    assert.match(await a.ok('NOOP'), /\* 3 EXPUNGE\r\n\* 3 EXPUNGE\r\n\* 6 EXPUNGE\r\n/);
    modelA.seqs = modelA.seqs.filter((u) => flags.has(u));
  });
  after(async () => {
    for (const s of [a, b, c]) s?.close();
    await server?.stop();
  });

  test('sets by number and by UID, with \\Recent and keywords, answer exactly the model', async () => {
    for (const command of SETTLED) assert.equal(await check(a, modelA, command), '', `${command}: nothing else announced`);
  });

  test('a sequence number above EXISTS is BAD, as before', async () => {
    const r = await a.cmd(`FETCH ${modelA.seqs.length + 1} (FLAGS)`);
    assert.equal(r.status, 'BAD');
    assert.match(r.text, /\[CLIENTBUG\] Invalid sequence number/);
  });

  test('`$` from SEARCH RETURN (SAVE), by number and by UID', async () => {
    await a.ok('UID SEARCH RETURN (SAVE) KEYWORD $label');
    const saved = modelA.seqs.filter((u) => flags.get(u)!.some((f) => f.toLowerCase() === '$label'));
    assert.ok(saved.length >= 2);
    const list = saved.join(',');
    const uidAnswer = await a.ok('UID FETCH $ (FLAGS)');
    assert.ok(uidAnswer.startsWith(expected(modelA, `UID FETCH ${list} (FLAGS)`)), uidAnswer);
    const seqAnswer = await a.ok('FETCH $ (FLAGS)');
    assert.ok(seqAnswer.startsWith(expected(modelA, `UID FETCH ${list} (FLAGS)`).replace(/ UID \d+\)/g, ')')), seqAnswer);
  });

  test('a flag list longer than a write chunk is sent whole', async () => {
    const uid = modelA.seqs[1];
    for (let i = 0; i < LONG_KEYWORDS.length; i += 25) await a.ok(`UID STORE ${uid} +FLAGS.SILENT (${LONG_KEYWORDS.slice(i, i + 25).join(' ')})`);
    flags.get(uid)!.push(...LONG_KEYWORDS);
    for (const command of ['UID FETCH 1:* (FLAGS)', `UID FETCH ${uid} (FLAGS)`, `FETCH 1:* (FLAGS UID)`]) assert.equal(await check(a, modelA, command), '', command);
    const removed = LONG_KEYWORDS.slice(0, 90);
    for (let i = 0; i < removed.length; i += 30) await a.ok(`UID STORE ${uid} -FLAGS.SILENT (${removed.slice(i, i + 30).join(' ')})`);
    flags.set(uid, flags.get(uid)!.filter((f) => !removed.includes(f)));
  });

  test("another session's changes: read, flags current, nothing renumbered until announced", async () => {
    const [u1, u2, u3, u4] = [modelA.seqs[0], modelA.seqs[2], modelA.seqs[4], modelA.seqs[6]];
    await b.ok(`UID STORE ${u1} +FLAGS (\\Flagged NewWord)`);
    flags.get(u1)!.push('\\Flagged', 'NewWord');
    await b.ok(`UID STORE ${u2} -FLAGS (\\Seen)`);
    flags.set(u2, flags.get(u2)!.filter((f) => f !== '\\Seen'));
    await b.ok(`UID STORE ${u3} FLAGS (\\Answered $Other)`);
    flags.set(u3, ['\\Answered', '$Other']);
    await b.ok(`UID STORE ${u4} +FLAGS (\\Deleted)`);
    await b.ok(`UID EXPUNGE ${u4}`); // the change log has u4 expunged, not its \Deleted: its flags stay as a saw them
    const n1 = await append('\\Seen Later');
    const n2 = await append('');

    // By number: no EXPUNGE may be sent, u4 keeps its number and is served; the new messages are not in `*` yet
    const rest = await check(a, modelA, 'FETCH 1:* (FLAGS)');
    assert.doesNotMatch(rest, /EXPUNGE/);
    assert.match(rest, new RegExp(`\\* ${modelA.seqs.length + 2} EXISTS\\r\\n`));
    modelA.seqs.push(n1, n2);
    modelA.recent.add(n1).add(n2); // a read them first
    assert.equal(await check(a, modelA, 'FETCH *:1 (UID FLAGS)'), '');
    // By UID: u4 is served, then its EXPUNGE is announced
    const later = await check(a, modelA, 'UID FETCH 1:* (FLAGS)');
    assert.equal(later, `* ${modelA.seqs.indexOf(u4) + 1} EXPUNGE\r\n`);
    modelA.seqs = modelA.seqs.filter((u) => u !== u4);
    flags.delete(u4);
    for (const command of SETTLED) assert.equal(await check(a, modelA, command), '', command);
  });

  test('CONDSTORE, IMAP4rev2 and UIDONLY sessions', async () => {
    const seqs = [...modelA.seqs];
    const condstore = await Imap.open(server.ports.imap!);
    await condstore.ok('ENABLE CONDSTORE');
    await condstore.ok(`SELECT ${BOX}`);
    const rev2 = await Imap.open(server.ports.imap!);
    await rev2.ok('ENABLE IMAP4rev2');
    await rev2.ok(`SELECT ${BOX}`);
    const uidOnly = await Imap.open(server.ports.imap!);
    await uidOnly.ok('ENABLE UIDONLY');
    await uidOnly.ok(`SELECT ${BOX}`);
    try {
      for (const command of SETTLED) assert.equal(await check(condstore, { seqs, recent: new Set(), rev2: false, uidOnly: false }, command), '', command);
      for (const command of SETTLED) assert.equal(await check(rev2, { seqs, recent: new Set(), rev2: true, uidOnly: false }, command), '', command);
      for (const command of SETTLED.filter((x) => x.startsWith('UID '))) assert.equal(await check(uidOnly, { seqs, recent: new Set(), rev2: false, uidOnly: true }, command), '', command);
      // CONDSTORE: a flag change made elsewhere is served with the new flags, then announced with its MODSEQ
      await b.ok(`UID STORE ${seqs[0]} -FLAGS (\\Flagged)`);
      flags.set(seqs[0], flags.get(seqs[0])!.filter((f) => f !== '\\Flagged'));
      const rest = await check(condstore, { seqs, recent: new Set(), rev2: false, uidOnly: false }, 'UID FETCH 1:* (FLAGS)');
      assert.match(rest, new RegExp(`^\\* 1 FETCH \\(UID ${seqs[0]} FLAGS \\(${flags.get(seqs[0])!.join(' ').replace(/[\\$]/g, '\\$&')}\\) MODSEQ \\(\\d+\\)\\)\\r\\n$`));
    } finally {
      for (const s of [condstore, rev2, uidOnly]) s.close();
    }
  });
});
