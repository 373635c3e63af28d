import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toPgPlaceholders } from './dialect.js';

describe('toPgPlaceholders', () => {
  const rows: [string, string][] = [
    ['SELECT 1', 'SELECT 1'],
    ['SELECT * FROM t WHERE a = ? AND b = ?', 'SELECT * FROM t WHERE a = $1 AND b = $2'],
    [`SELECT '?' AS q, x FROM t WHERE y = ?`, `SELECT '?' AS q, x FROM t WHERE y = $1`],
    [`SELECT "odd?name" FROM t WHERE y IN (?, ?, ?)`, `SELECT "odd?name" FROM t WHERE y IN ($1, $2, $3)`],
    [`SELECT 'it''s ?' , ?`, `SELECT 'it''s ?' , $1`],
    ['INSERT INTO t (a) SELECT value FROM unnest(CAST(? AS bigint[])) AS lst(value) WHERE true', 'INSERT INTO t (a) SELECT value FROM unnest(CAST($1 AS bigint[])) AS lst(value) WHERE true'],
  ];
  for (const [sql, expected] of rows) it(sql, () => assert.equal(toPgPlaceholders(sql), expected));
});
