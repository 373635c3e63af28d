/**
 * A transaction's BEGIN in the message of its first statement (./begin-with.ts), against a
 * real server: the statement runs inside the transaction (a ROLLBACK undoes it), the caller
 * gets that statement's result alone, an error fails the query and leaves the connection
 * usable, and the driver sends one query fewer per transaction than BEGIN + statements + COMMIT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { freshDatabase, pgSkip, type FreshDatabase } from '../../../test/harness/pg.js';
import { queryAfterBegin, canJoinBegin } from './begin-with.js';
import { createPool, inTransaction, type Pool } from './db.js';

describe('BEGIN with the first statement', { skip: pgSkip }, () => {
  let db: FreshDatabase;
  let pool: Pool;

  before(async () => {
    db = await freshDatabase();
    pool = createPool({ url: db.url, poolSize: 1 });
    await pool.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  const prepared = (text: string, values: unknown[]): pg.QueryConfig => ({ name: `t_${createHash('sha1').update(text).digest('hex')}`, text, values });

  it('runs the statement inside the transaction and returns its result alone, prepared or simple', async () => {
    const client = await pool.connect();
    try {
      const insert = prepared('INSERT INTO t (id, v) VALUES ($1, $2) RETURNING id, v', [1, 'one']);
      assert.equal(canJoinBegin(client, insert), false, 'not prepared on this connection yet');
      await client.query(insert); // prepares it (autocommit)
      assert.equal(canJoinBegin(client, { ...insert, values: [2, 'two'] }), true);
      const r = await queryAfterBegin(client, ['BEGIN'], { ...insert, values: [2, 'two'] });
      assert.deepEqual(r.rows, [{ id: 2, v: 'two' }]);
      assert.equal(r.command, 'INSERT');
      await client.query('ROLLBACK');
      const simple = await queryAfterBegin(client, ['BEGIN', 'SET LOCAL synchronous_commit TO off'], { text: "SELECT current_setting('synchronous_commit') AS s, count(*)::int AS n FROM t" });
      assert.deepEqual(simple.rows, [{ s: 'off', n: 1 }]);
      await client.query('ROLLBACK');
      assert.deepEqual((await client.query('SELECT id FROM t ORDER BY id')).rows, [{ id: 1 }], 'the rolled-back insert is gone');
    } finally {
      client.release();
    }
  });

  it('an error in the statement fails the query; after ROLLBACK the connection works', async () => {
    const client = await pool.connect();
    try {
      const dup = prepared('INSERT INTO t (id, v) VALUES ($1, $2)', [10, 'x']);
      await client.query(dup);
      await assert.rejects(queryAfterBegin(client, ['BEGIN'], dup), (e: Error & { code?: string }) => e.code === '23505');
      await assert.rejects(client.query('SELECT 1'), /aborted/, 'inside the failed transaction');
      await client.query('ROLLBACK');
      assert.deepEqual((await client.query('SELECT count(*)::int AS n FROM t WHERE id = 10')).rows, [{ n: 1 }]);
    } finally {
      client.release();
    }
  });

  it('a transaction costs its statements plus COMMIT: no message of its own for BEGIN', async () => {
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    const tx = () =>
      inTransaction(pool, async (c) => {
        await c.exec('UPDATE t SET v = ? WHERE id = ?', ['y', 1]);
        return c.get<{ v: string }>('SELECT v FROM t WHERE id = ?', [1]);
      });
    await tx(); // prepares both statements on the pool's one connection
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0];
      sent.push(typeof q === 'string' ? q : String((q as { text?: string }).text ?? ''));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      assert.deepEqual(await tx(), { v: 'y' });
    } finally {
      pg.Client.prototype.query = original;
    }
    assert.equal(sent.length, 3, sent.join(' | '));
    assert.match(sent[2], /COMMIT$/);
  });
});
