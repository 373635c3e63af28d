// SORT and THREAD on a database that schema 22 (SORT/THREAD keys per content) migrated:
// a corpus stored by this build is sorted and threaded; the database is then put back to
// what version 21 left (no key columns, migration 22 not recorded), the server restarted
// (the migration backfills, and no process cache remembers anything), and every answer
// must be the same, every row keyed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { Imap, startImapServer } from './client.js';

/** A deterministic corpus with threads, broken and folded References, missing dates and ids, encoded subjects. */
function corpus(): string[] {
  let seed = 7;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), (seed >>> 8) % n);
  const out: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) {
    const lines = [`From: u${rnd(5)}@example.test`, `Subject: ${['', 'Re: ', 'Fwd: ', 'RE: [list] '][rnd(4)]}${['plan', '=?utf-8?q?caf=C3=A9?=', 'Menu', ''][rnd(4)]}`];
    if (rnd(6) !== 0) lines.push(`Date: Mon, ${1 + rnd(3)} Jan 2024 ${10 + rnd(3)}:00:00 +0000`);
    else if (rnd(2) === 0) lines.push('Date: not a date');
    const own = rnd(10) === 0 && ids.length ? ids[rnd(ids.length)] : `<m${i}@x.test>`; // some duplicates
    if (rnd(12) !== 0) lines.push(`Message-ID: ${own}`);
    const parents = ids.length && rnd(2) ? Array.from({ length: rnd(4) }, () => ids[Math.max(0, ids.length - 1 - rnd(6))]) : [];
    const form = rnd(5);
    if (form === 1 && parents.length) lines.push(`In-Reply-To: ${parents.join(' ')}`);
    else if (form === 2 && parents.length) lines.push(`References: ${parents.join('\r\n\t')}`); // folded
    else if (form === 3) lines.push(`References: <gone${i}@x.test> <no-at> <${parents[0] ?? '<x@y>'}`);
    else if (parents.length) lines.push(`References: ${parents.join(' ')}`, `In-Reply-To: ${parents.at(-1)}`);
    ids.push(own);
    out.push(`${lines.join('\r\n')}\r\n\r\n${'x'.repeat(rnd(50))}\r\n`);
  }
  return out;
}

const COMMANDS = [
  'SORT (DATE) UTF-8 ALL', 'SORT (REVERSE DATE) UTF-8 ALL', 'UID SORT (DATE ARRIVAL) UTF-8 ALL', 'SORT (REVERSE ARRIVAL) UTF-8 ALL',
  'SORT (SIZE DATE) UTF-8 ALL', 'SORT (SUBJECT DATE) UTF-8 ALL', 'SORT (REVERSE DATE) UTF-8 UID 10:40',
  'THREAD REFERENCES UTF-8 ALL', 'UID THREAD REFERENCES UTF-8 ALL', 'THREAD REFS UTF-8 ALL', 'THREAD ORDEREDSUBJECT UTF-8 ALL', 'THREAD REFERENCES UTF-8 SEEN',
];

async function answers(port: number): Promise<Record<string, string>> {
  const c = await Imap.open(port);
  try {
    await c.ok('SELECT Corpus');
    const out: Record<string, string> = {};
    for (const cmd of COMMANDS) out[cmd] = (await c.ok(cmd)).split('\r\n')[0];
    return out;
  } finally {
    c.close();
  }
}

describe('SORT/THREAD keys: a database migrated from schema 21 answers as before', () => {
  let server: RunningTestServer | undefined;
  let stored: Record<string, string>;
  before(async () => {
    server = await startImapServer();
    const c = await Imap.open(server.ports.imap!);
    await c.ok('CREATE Corpus');
    for (const [i, raw] of corpus().entries()) {
      const internal = `0${1 + (i % 3)}-Jan-2024 1${i % 7}:00:00 +0000`; // ties included
      await c.ok(`APPEND Corpus (${i % 4 === 0 ? '\\Seen' : ''}) "${internal}" {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    }
    c.close();
    stored = await answers(server.ports.imap!);
  });
  after(async () => {
    await server?.stop();
  });

  test('the corpus threads: answers are not trivial', () => {
    assert.match(stored['THREAD REFERENCES UTF-8 ALL'], /\(\d+ [(\d]/);
    assert.notEqual(stored['SORT (DATE) UTF-8 ALL'], stored['SORT (REVERSE ARRIVAL) UTF-8 ALL']);
  });

  test('after the downgrade to 21 and a restart, the backfill keys every content and every answer is the same', async () => {
    const dataDir = server!.dataDir;
    await server!.stop();
    server = undefined;
    const file = path.join(dataDir, 'mailroom.db');
    const db = new Database(file);
    const keyed = db.prepare('SELECT id, sent_date, thread_keys FROM messages ORDER BY id').all();
    db.exec('ALTER TABLE messages DROP COLUMN sent_date; ALTER TABLE messages DROP COLUMN thread_keys; DELETE FROM schema_migrations WHERE version = 22');
    db.close();
    server = await startServer({ dataDir });
    assert.deepEqual(await answers(server.ports.imap!), stored);
    const again = new Database(file, { readonly: true });
    try {
      assert.deepEqual(again.prepare('SELECT id, sent_date, thread_keys FROM messages ORDER BY id').all(), keyed, 'the backfill wrote what delivery wrote');
      assert.equal(keyed.length, 60);
    } finally {
      again.close();
    }
  });
});
