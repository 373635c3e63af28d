// The QRESYNC property (issue 11): after random APPEND/STORE/EXPUNGE/MOVE from two sessions,
// a third session that resynchronises with SELECT (QRESYNC (uidvalidity modseq [known-uids]))
// and applies only the VANISHED (EARLIER) and FETCH responses to its cache has exactly the
// UIDs and flags a full UID FETCH 1:* (FLAGS) gives. Several rounds per run, so each resync
// starts from the MODSEQ the previous one ended with.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '$A', '$B'];

type Op =
  | { kind: 'append'; by: 0 | 1; flags: string[] }
  | { kind: 'store'; by: 0 | 1; uid: number; op: '+' | '-' | ''; flags: string[] }
  | { kind: 'expunge'; by: 0 | 1; uid: number }
  | { kind: 'move'; by: 0 | 1; uid: number }
  | { kind: 'noop'; by: 0 | 1 };

const flagSet = fc.subarray(FLAGS);
const uidPick = fc.integer({ min: 1, max: 14 });
const by = fc.constantFrom(0 as const, 1 as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), by, flags: flagSet }),
  fc.record({ kind: fc.constant('store' as const), by, uid: uidPick, op: fc.constantFrom('+' as const, '-' as const, '' as const), flags: flagSet }),
  fc.record({ kind: fc.constant('expunge' as const), by, uid: uidPick }),
  fc.record({ kind: fc.constant('move' as const), by, uid: uidPick }),
  fc.record({ kind: fc.constant('noop' as const), by }),
);

/** Expands `3:5,7` into numbers. */
function uidsOf(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number);
    for (let u = Math.min(a, b ?? a); u <= Math.max(a, b ?? a); u++) out.push(u);
  }
  return out;
}

const norm = (flags: string) => flags.split(' ').filter((f) => f !== '' && f !== '\\Recent').sort().join(' ');

describe('QRESYNC resync property', () => {
  let server: RunningTestServer;
  let sessions: Imap[];
  let n = 0;
  before(async () => {
    server = await startImapServer();
    sessions = [await Imap.open(server.ports.imap!), await Imap.open(server.ports.imap!), await Imap.open(server.ports.imap!), await Imap.open(server.ports.imap!)];
    await sessions[2].ok('ENABLE QRESYNC');
    await sessions[0].ok('ENABLE QRESYNC'); // one writer sees VANISHED, the other EXPUNGE
  });
  after(async () => {
    for (const s of sessions ?? []) s.close();
    await server?.stop();
  });

  async function run(c: Imap, o: Op, name: string): Promise<void> {
    switch (o.kind) {
      case 'append': {
        const raw = message(`p${n}`);
        await c.ok(`APPEND ${name} (${o.flags.join(' ')}) {${raw.length}+}\r\n${raw}`);
        return;
      }
      case 'store':
        await c.ok(`UID STORE ${o.uid} ${o.op}FLAGS (${o.flags.join(' ')})`);
        return;
      case 'expunge':
        await c.ok(`UID STORE ${o.uid} +FLAGS.SILENT (\\Deleted)`);
        await c.ok('EXPUNGE');
        return;
      case 'move':
        await c.ok(`UID MOVE ${o.uid} ${name}-other`);
        return;
      case 'noop':
        await c.ok('NOOP');
    }
  }

  /** SELECT (QRESYNC ...): applies VANISHED (EARLIER) and FETCH to the cache; returns the new resync MODSEQ. */
  async function resync(c: Imap, name: string, uidValidity: number, modSeq: number, cache: Map<number, string>, sendKnown: boolean): Promise<number> {
    const known = sendKnown && cache.size > 0 ? ` ${[...cache.keys()].sort((a, b) => a - b).join(',')}` : '';
    const text = await c.ok(`SELECT ${name} (QRESYNC (${uidValidity} ${modSeq}${known}))`);
    let highest = Number(/\[HIGHESTMODSEQ (\d+)\]/.exec(text)![1]);
    for (const line of text.split('\r\n')) {
      const v = /^\* VANISHED \(EARLIER\) (\S+)$/.exec(line);
      if (v) for (const u of uidsOf(v[1])) cache.delete(u);
      const f = /^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)$/.exec(line);
      if (f) {
        cache.set(Number(f[1]), norm(f[2]));
        highest = Math.max(highest, Number(f[3]));
      }
    }
    // new messages have UIDs above every cached one; known-uids leaves them out (RFC 7162 3.2.5.1), so a client fetches them
    const last = Math.max(0, ...cache.keys());
    for (const line of (await c.ok(`UID FETCH ${last + 1}:* (FLAGS MODSEQ)`)).split('\r\n')) {
      const f = /^\* \d+ FETCH \(FLAGS \(([^)]*)\) MODSEQ \((\d+)\) UID (\d+)\)$/.exec(line);
      if (f && Number(f[3]) > last) {
        cache.set(Number(f[3]), norm(f[1]));
        highest = Math.max(highest, Number(f[2]));
      }
    }
    await c.ok('UNSELECT');
    return highest;
  }

  async function truth(name: string): Promise<Map<number, string>> {
    const c = sessions[3];
    // INTERNALDATE makes FETCH read each row from the store, not the view (which SELECT may build from a remembered snapshot)
    const text = await c.ok(`EXAMINE ${name}`).then(() => c.ok('UID FETCH 1:* (FLAGS INTERNALDATE)'));
    const out = new Map<number, string>();
    for (const line of text.split('\r\n')) {
      const m = /^\* \d+ FETCH \(FLAGS \(([^)]*)\) INTERNALDATE "[^"]*" UID (\d+)\)$/.exec(line);
      if (m) out.set(Number(m[2]), norm(m[1]));
    }
    await c.ok('UNSELECT');
    return out;
  }

  test('a QRESYNC resync reproduces the full FETCH after random changes by two other sessions', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { maxLength: 12 }), { minLength: 1, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), async (rounds, known) => {
        const name = `Prop${++n}`;
        const [a, b, c] = sessions;
        await a.ok(`CREATE ${name}`);
        await a.ok(`CREATE ${name}-other`);
        for (let i = 0; i < 4; i++) await run(a, { kind: 'append', by: 0, flags: i % 2 ? ['\\Seen'] : [] }, name);
        await a.ok(`SELECT ${name}`);
        await b.ok(`SELECT ${name}`);
        // the client's first full sync
        const sel = await c.ok(`SELECT ${name}`);
        const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
        let modSeq = Number(/\[HIGHESTMODSEQ (\d+)\]/.exec(sel)![1]);
        await c.ok('UNSELECT');
        const cache = await truth(name);
        for (const [i, round] of rounds.entries()) {
          for (const o of round) await run(o.by === 0 ? a : b, o, name);
          modSeq = await resync(c, name, uidValidity, modSeq, cache, known[i]);
          assert.deepEqual([...cache].sort((x, y) => x[0] - y[0]), [...(await truth(name))].sort((x, y) => x[0] - y[0]), `round ${i}: ${JSON.stringify(round)}`);
        }
        await a.ok('UNSELECT');
        await b.ok('UNSELECT');
      }),
      { numRuns: 25 },
    );
  });
});
