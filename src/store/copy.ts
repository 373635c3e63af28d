/**
 * Moves a whole installation between backends (SQLite ⇄ PostgreSQL) row for row: ids,
 * UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, UIDs, MODSEQs, flags, dates, EMAILID/THREADID,
 * UIDLs, the expunge log, the queue and every blob, so clients need not resync.
 *
 * Never imports: protocol code, src/mail.
 * Invariants: both sides are migrated to the same schema version first; the target is
 * written in one transaction (a failed copy leaves it as it was); blobs go first
 * (content-addressed, so a re-run is harmless); the source is read from one snapshot.
 */
import type Database from 'better-sqlite3';
import { LocalChangeBus } from './bus.js';
import { StoreError } from './errors.js';
import { openStore } from './open.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';
import { needsMessage, unpackIndex, unpackSearchText } from './core/packed-text.js';
import { PgConn, type Client } from './postgres/db.js';
import { backfillTextFilters as pgBackfillTextFilters } from './postgres/migrations.js';
import { backfillTextFilters } from './sqlite/migrations.js';

/** Tables in foreign-key order. */
export const COPIED_TABLES = [
  'meta', 'domains', 'users', 'members', 'devices', 'aliases', 'mailboxes', 'acl', 'subscriptions', 'contents', 'blob_inline', 'blobs', 'messages', 'deleted_messages', 'device_hidden',
  'private_flags', 'expunged', 'thread_refs', 'user_logins', 'login_failures', 'login_origins', 'metadata', 'vacation_replies', 'urlauth_keys',
  'queue', 'queue_recipients',
] as const;

/**
 * Every other table, and why it stays behind; a test checks that each table of the schema
 * is in one list or the other, so a new table cannot be forgotten by `store copy`.
 */
export const NOT_COPIED_TABLES: Readonly<Record<string, string>> = {
  schema_migrations: 'each side records its own migrations',
  leases: 'transient: POP3 maildrop locks and job leases of running processes',
  content_search: 'derived: PostgreSQL text index of schemas 6 to 23 (now messages.text_filter, rebuilt by the target)',
  content_fts: 'derived: SQLite full-text index of schemas 6 to 22 (now messages.text_filter, rebuilt by the target)',
  content_fts_config: 'derived: part of content_fts',
  content_fts_data: 'derived: part of content_fts',
  content_fts_docsize: 'derived: part of content_fts',
  content_fts_idx: 'derived: part of content_fts',
  blob_data: 'blob bytes kept in PostgreSQL: copied through the blob stores with every other blob',
  auth_failures: 'transient: login throttling counters',
};

/** Tables whose key is longer than two columns: paging must order by all of it. */
const KEY_COLUMNS: Readonly<Record<string, number>> = { metadata: 4 };

/** Tables that hold an installation's data: any row in them makes a target "not empty". */
const CONTENT_TABLES = ['domains', 'users', 'mailboxes', 'messages', 'contents', 'queue'];

const BATCH = 500;

export interface CopyProgress {
  (phase: string, done: number, total: number): void;
}

export interface CopyResultSummary {
  rows: Record<string, number>;
  blobs: number;
}

/**
 * A blobs row as the target should hold it: stored_size describes the source's file, and
 * the target stores the bytes its own way (NULL: logical size); an inline blob's row is
 * the same on both (its stored size is its data's), so it keeps it.
 */
function fileSizeDropped(columns: string[], row: unknown[]): unknown[] {
  const stored = columns.indexOf('stored_size');
  const inline = columns.indexOf('inline_id');
  if (stored < 0 || (inline >= 0 && row[inline] !== null && row[inline] !== undefined)) return row;
  const out = [...row];
  out[stored] = null;
  return out;
}

/**
 * A contents row with its index and search text in the plain form, which every backend
 * reads (a packed one, core/packed-text.ts, is SQLite's; PostgreSQL's columns are text).
 */
async function plainContent(from: Store, columns: string[], row: unknown[]): Promise<unknown[]> {
  const [id, idx, text] = ['id', 'idx', 'search_text'].map((c) => columns.indexOf(c));
  if (idx < 0 || text < 0 || (typeof row[idx] === 'string' && typeof row[text] === 'string')) return row;
  const contentId = String(row[id]);
  const out = [...row];
  out[idx] = unpackIndex(row[idx] as string | Uint8Array, contentId);
  const packed = row[text] as string | Uint8Array;
  const message = needsMessage(packed) ? Buffer.concat(await (await from.openContent(contentId)).toArray()) : undefined;
  out[text] = unpackSearchText(packed, contentId, () => message);
  return out;
}

/** `sqlite:DIR`, a plain directory, or a postgres:// URL. */
export async function openLocation(spec: string): Promise<Store> {
  const s = spec.trim();
  if (/^postgres(ql)?:\/\//i.test(s)) return openStore({ dataDir: '', databaseUrl: s, bus: new LocalChangeBus() });
  const dir = s.replace(/^sqlite:/i, '');
  if (dir === '') throw new StoreError('invalid', `empty location ${JSON.stringify(spec)}`);
  return openStore({ dataDir: dir, bus: new LocalChangeBus() });
}

/** Reading and writing raw rows on either backend. */
interface RowSide {
  columns(table: string): Promise<string[]>;
  count(table: string): Promise<number>;
  /** Rows in primary-key order, `BATCH` at a time. */
  read(table: string, columns: string[]): AsyncGenerator<unknown[][]>;
  insert(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  clear(table: string): Promise<void>;
  begin(readOnly: boolean): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  finish(): Promise<void>;
  /** Empties the text index (before its contents go). */
  clearTextIndex(): Promise<void>;
  /** Builds the text index of every content: it is derived data, made by the target's own rules. */
  buildTextIndex(): Promise<void>;
}

/** Every copied table's key is its first column, its first two or KEY_COLUMNS: a stable order for paging. */
function orderBy(table: string, columns: string[]): string {
  const n = Math.min(columns.length, KEY_COLUMNS[table] ?? 2);
  return `ORDER BY ${Array.from({ length: n }, (_, i) => i + 1).join(', ')}`;
}

function sqliteSide(db: Database.Database): RowSide {
  return {
    async columns(table) {
      return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    },
    async count(table) {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    },
    async *read(table, columns) {
      // A snapshot: the caller holds BEGIN, so later pages see the same data.
      let offset = 0;
      for (;;) {
        const rows = db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ${orderBy(table, columns)} LIMIT ? OFFSET ?`).raw().all(BATCH, offset) as unknown[][];
        if (rows.length === 0) return;
        offset += rows.length;
        yield rows;
      }
    },
    async insert(table, columns, rows) {
      const stmt = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      for (const r of rows) stmt.run(...r.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
    },
    async clear(table) {
      db.prepare(`DELETE FROM ${table}`).run();
    },
    async begin(readOnly) {
      db.exec(readOnly ? 'BEGIN' : 'BEGIN IMMEDIATE');
    },
    async commit() {
      db.exec('COMMIT');
    },
    async rollback() {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    async finish() {},
    async clearTextIndex() {
      // the text filters are a column of messages (schema 23), cleared with its rows
    },
    async buildTextIndex() {
      // rows keep the filters they come with (facts of the content); rows without one get theirs
      backfillTextFilters(db);
    },
  };
}

function postgresSide(client: Client): RowSide {
  return {
    async columns(table) {
      const r = await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table]);
      return r.rows.map((c: { column_name: string }) => c.column_name);
    },
    async count(table) {
      return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    },
    async *read(table, columns) {
      let offset = 0;
      for (;;) {
        const r = await client.query({ text: `SELECT ${columns.join(', ')} FROM ${table} ${orderBy(table, columns)} LIMIT $1 OFFSET $2`, values: [BATCH, offset], rowMode: 'array' });
        if (r.rows.length === 0) return;
        offset += r.rows.length;
        yield r.rows as unknown[][];
      }
    },
    async insert(table, columns, rows) {
      if (rows.length === 0) return;
      const params: unknown[] = [];
      const tuples = rows.map((row) => `(${row.map((v) => { params.push(v); return `$${params.length}`; }).join(', ')})`);
      await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    },
    async clear(table) {
      await client.query(`DELETE FROM ${table}`);
    },
    async begin(readOnly) {
      await client.query(readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    },
    async commit() {
      // Serial ids were given explicitly: move each sequence past the copied ids.
      for (const t of ['domains', 'users', 'members', 'devices', 'aliases', 'mailboxes', 'messages', 'login_failures', 'blob_inline']) {
        await client.query(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), coalesce((SELECT max(id) FROM ${t}), 0) + 1, false)`);
      }
      await client.query('COMMIT');
    },
    async rollback() {
      await client.query('ROLLBACK').catch(() => undefined);
    },
    async finish() {
      client.release();
    },
    async clearTextIndex() {
      // the text filters are a column of messages (schema 24), cleared with its rows
    },
    async buildTextIndex() {
      // rows keep the filters they come with (SQLite's are the same); rows without get theirs
      await pgBackfillTextFilters(new PgConn(client));
    },
  };
}

async function sideOf(store: Store): Promise<RowSide> {
  if (store instanceof SqliteStore) return sqliteSide(store.database);
  if (store instanceof PostgresStore) return postgresSide(await store.pool.connect());
  throw new StoreError('invalid', 'store copy supports SQLite and PostgreSQL stores only');
}

/** Copies everything from `from` into `to`; 'conflict' when `to` holds data and `force` is not set. */
export async function copyStore(from: Store, to: Store, opts: { force?: boolean; progress?: CopyProgress } = {}): Promise<CopyResultSummary> {
  const progress = opts.progress ?? (() => {});
  const [vFrom, vTo] = [await from.schemaVersion(), await to.schemaVersion()];
  if (vFrom !== vTo) throw new StoreError('invalid', `schema versions differ (source ${vFrom}, target ${vTo}); run the same Mailroom version on both`);
  const src = await sideOf(from);
  const dst = await sideOf(to);
  const summary: CopyResultSummary = { rows: {}, blobs: 0 };
  try {
    if (!opts.force) {
      for (const t of CONTENT_TABLES) {
        if ((await dst.count(t)) > 0) throw new StoreError('conflict', `the target already holds data (table ${t}); use --force to replace it`);
      }
    }
    await src.begin(true);
    // Blob bytes first, outside the target transaction: content-addressed, so harmless if the copy fails later.
    const blobTotal = await src.count('blobs');
    // A blob kept inline (blob_inline) travels with the rows below; only files are copied here.
    for await (const page of src.read('blobs', ['hash', 'inline_id'])) {
      for (const [hash, inlineId] of page) {
        if (inlineId === null || inlineId === undefined) await to.blobs.put(hash as string, from.blobs.read(hash as string));
        progress('blobs', ++summary.blobs, blobTotal);
      }
    }
    await dst.begin(false);
    await dst.clearTextIndex();
    for (const t of [...COPIED_TABLES].reverse()) await dst.clear(t);
    await dst.clear('leases');
    for (const t of COPIED_TABLES) {
      const targetCols = new Set(await dst.columns(t));
      const columns = (await src.columns(t)).filter((c) => targetCols.has(c));
      const total = await src.count(t);
      let done = 0;
      for await (const page of src.read(t, columns)) {
        await dst.insert(t, columns, t === 'blobs' ? page.map((row) => fileSizeDropped(columns, row)) : t === 'contents' ? await Promise.all(page.map((row) => plainContent(from, columns, row))) : page);
        done += page.length;
        progress(t, done, total);
      }
      summary.rows[t] = done;
    }
    await dst.buildTextIndex();
    await dst.commit();
    await src.rollback();
    return summary;
  } catch (err) {
    await dst.rollback();
    await src.rollback();
    throw err instanceof StoreError ? err : new StoreError('unavailable', `store copy failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await src.finish();
    await dst.finish();
  }
}
