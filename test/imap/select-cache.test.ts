// SELECT from the remembered snapshot (src/imap/snapshot-cache.ts): after random APPEND,
// STORE, EXPUNGE and MOVE by two other sessions, a new SELECT, which starts from the state
// an earlier SELECT left and reads only the changes since, shows exactly what the store
// holds: EXISTS, UIDNEXT, and each message's UID and flags as the view answers them
// (`UID FETCH 1:* (FLAGS)`) equal the rows read from the store (`INTERNALDATE` makes FETCH
// read each row) and the STATUS counts; FETCH (FLAGS ENVELOPE), answered without rows
// (content ids remembered per UID, flags from the view), agrees with the row path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

const FLAGS = ['\\Seen', '\\Deleted', '\\Flagged', '$A'];

type Op =
  | { kind: 'append'; by: 0 | 1; flags: string[] }
  | { kind: 'store'; by: 0 | 1; uid: number; op: '+' | '-' | ''; flags: string[] }
  | { kind: 'expunge'; by: 0 | 1; uid: number }
  | { kind: 'move'; by: 0 | 1; uid: number };

const by = fc.constantFrom(0 as const, 1 as const);
const uidPick = fc.integer({ min: 1, max: 16 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), by, flags: fc.subarray(FLAGS) }),
  fc.record({ kind: fc.constant('store' as const), by, uid: uidPick, op: fc.constantFrom('+' as const, '-' as const, '' as const), flags: fc.subarray(FLAGS) }),
  fc.record({ kind: fc.constant('expunge' as const), by, uid: uidPick }),
  fc.record({ kind: fc.constant('move' as const), by, uid: uidPick }),
);

const norm = (flags: string) => flags.split(' ').filter((f) => f !== '' && f !== '\\Recent').sort().join(' ');

/** UID → flags from FETCH responses, whatever the order of the items. */
function flagsByUid(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\r\n')) {
    if (!/^\* \d+ FETCH /.test(line)) continue;
    out.set(Number(/UID (\d+)/.exec(line)![1]), norm(/FLAGS \(([^)]*)\)/.exec(line)![1]));
  }
  return out;
}

/** UID → ENVELOPE subject. */
function subjectsByUid(text: string): [number, string][] {
  return text
    .split('\r\n')
    .filter((l) => /^\* \d+ FETCH /.test(l))
    .map((l) => [Number(/UID (\d+)/.exec(l)![1]), /ENVELOPE \("[^"]*" "([^"]*)"/.exec(l)![1]]);
}

describe('SELECT from the remembered snapshot', () => {
  let server: RunningTestServer;
  let sessions: Imap[];
  let n = 0;
  let appended = 0;
  before(async () => {
    server = await startImapServer();
    sessions = [await Imap.open(server.ports.imap!), await Imap.open(server.ports.imap!), await Imap.open(server.ports.imap!)];
  });
  after(async () => {
    for (const s of sessions ?? []) s.close();
    await server?.stop();
  });

  async function run(c: Imap, o: Op, name: string): Promise<void> {
    if (o.kind === 'append') {
      const raw = message(`s${n}-${appended++}`);
      await c.ok(`APPEND ${name} (${o.flags.join(' ')}) {${raw.length}+}\r\n${raw}`);
    } else if (o.kind === 'store') await c.ok(`UID STORE ${o.uid} ${o.op}FLAGS (${o.flags.join(' ')})`);
    else if (o.kind === 'expunge') {
      await c.ok(`UID STORE ${o.uid} +FLAGS.SILENT (\\Deleted)`);
      await c.ok('EXPUNGE');
    } else await c.ok(`UID MOVE ${o.uid} ${name}-other`);
  }

  test('a later SELECT equals the store after random changes by other sessions', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { maxLength: 10 }), { minLength: 1, maxLength: 4 }), fc.boolean(), async (rounds, examine) => {
        const name = `Sel${++n}`;
        const [a, b, c] = sessions;
        await a.ok(`CREATE ${name}`);
        await a.ok(`CREATE ${name}-other`);
        for (let i = 0; i < 5; i++) await run(a, { kind: 'append', by: 0, flags: i % 2 ? ['\\Seen'] : [] }, name);
        await a.ok(`SELECT ${name}`);
        await b.ok(`SELECT ${name}`);
        await c.ok(`SELECT ${name}`); // remembers the state for the next SELECT
        await c.ok('UNSELECT');
        for (const [i, round] of rounds.entries()) {
          for (const o of round) await run(o.by === 0 ? a : b, o, name);
          const sel = await c.ok(`${examine ? 'EXAMINE' : 'SELECT'} ${name}`);
          const view = flagsByUid(await c.ok('UID FETCH 1:* (FLAGS)'));
          // ENVELOPE with FLAGS needs no row (content ids remembered by earlier FETCHes, flags from the view): asked
          // first, so this view has read no rows yet; the same answer as with the rows
          const rowFreeText = await c.ok('UID FETCH 1:* (FLAGS ENVELOPE)');
          const rowsText = await c.ok('UID FETCH 1:* (FLAGS INTERNALDATE ENVELOPE)');
          const rows = flagsByUid(rowsText);
          const what = `round ${i}: ${JSON.stringify(round)}`;
          assert.deepEqual([...view], [...rows], what);
          assert.deepEqual([...flagsByUid(rowFreeText)], [...rows], what);
          assert.deepEqual(subjectsByUid(rowFreeText), subjectsByUid(rowsText), what);
          assert.equal(Number(/\* (\d+) EXISTS/.exec(sel)![1]), rows.size, what);
          await c.ok('UNSELECT');
          const status = await c.ok(`STATUS ${name} (MESSAGES UNSEEN UIDNEXT)`);
          const [, messages, unseen, uidNext] = /MESSAGES (\d+) UNSEEN (\d+) UIDNEXT (\d+)/.exec(status)!.map(Number);
          assert.deepEqual([messages, unseen], [rows.size, [...rows.values()].filter((f) => !f.includes('\\Seen')).length], what);
          assert.equal(Number(/UIDNEXT (\d+)/.exec(sel)![1]), uidNext, what);
        }
        await a.ok('UNSELECT');
        await b.ok('UNSELECT');
      }),
      { numRuns: 25 },
    );
  });
});
