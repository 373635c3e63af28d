/**
 * The driver port: the only thing storage rules (this folder) know about a database.
 * A backend supplies a Driver (connection, transactions, statement cache) and a Dialect
 * (the few SQL spellings that really differ); every rule is written once against them.
 *
 * SQL is written once with `?` placeholders; a driver whose database wants `$1` rewrites.
 */

/** Statements on one connection inside one transaction. */
export interface Conn {
  /** All result rows. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The first result row, if any. */
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Runs a statement; `changes` counts rows it inserted, updated or deleted. */
  exec(sql: string, params?: unknown[]): Promise<{ changes: number; lastId?: number }>;
}

/**
 * - 'read': one consistent snapshot across all of `fn`'s statements.
 * - 'one': a read of exactly one statement, which is its own snapshot: a driver may run it
 *   without BEGIN/COMMIT (PostgreSQL: two round trips fewer). A second statement is a bug
 *   and fails.
 * - 'write': all or nothing; resolves once durable.
 * - 'ephemeral': all or nothing like 'write', but state whose loss in a crash is harmless
 *   (leases and login times: a crash ends the sessions they guard, and a lease expires):
 *   a driver may resolve before it is on disk (SQLite: no fsync of its own; PostgreSQL:
 *   synchronous_commit off). A later durable commit makes it durable too (one log, in order).
 */
export type TxMode = 'read' | 'one' | 'write' | 'ephemeral';

export interface Driver {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one transaction: 'read' sees one consistent snapshot, 'write' commits
   * everything or nothing. Resolves only after the commit is durable; rejects only with
   * StoreError. A driver may run `fn` more than once (retry of a deadlock victim), so
   * `fn` keeps its bookkeeping inside.
   */
  transaction<T>(mode: TxMode, fn: (c: Conn) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type RowLock = 'update' | 'share' | 'keyshare';

/** The real differences between SQLite and PostgreSQL SQL, and nothing else. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * True when rows must be locked explicitly (PostgreSQL, READ COMMITTED, several
   * writers); false when a write transaction already excludes every other writer
   * (SQLite's BEGIN IMMEDIATE).
   */
  readonly rowLocks: boolean;
  /** ` FOR UPDATE` and friends, or '' where the transaction already excludes writers. */
  lock(kind: RowLock): string;
  /** ` FOR UPDATE SKIP LOCKED` (claim rows nobody else is claiming), or ''. */
  readonly skipLocked: string;
  /** Appended to an ORDER BY term so text sorts by bytes (code point), as SQLite does. */
  readonly byteOrder: string;
  /**
   * `IN (…)` for one list parameter, spelled so the planner still uses an index on the
   * left-hand column (PostgreSQL: `= ANY(array)`).
   */
  inList(kind: 'int' | 'text'): string;
  /** A table expression with one column `value` holding the elements of one list parameter. */
  list(kind: 'int' | 'text'): string;
  /** The parameter value `inList()` and `list()` expect. */
  listParam(values: readonly (number | string)[]): unknown;
  /** Current time in ms since the epoch, as an SQL expression (the database's clock). */
  readonly nowMs: string;
  /**
   * The 1-based position of the text bound to the next `?` in the text expression `expr`,
   * 0 when absent; compares code points, case-sensitively (SQLite instr, PostgreSQL strpos).
   */
  position(expr: string): string;
  /** The full-text index over contents' search text (the rule is in ./text-search.ts). */
  readonly textIndex: TextIndexDialect;
  /**
   * Whether contents.idx and search_text are stored packed (./packed-text.ts): SQLite, whose
   * columns take bytes and whose WITHOUT ROWID rows spill over ~1 KB; PostgreSQL's are text,
   * compressed by TOAST past 2 KB.
   */
  readonly packsText: boolean;
  /**
   * Whether a statement may carry INSERT/UPDATE in a WITH clause and `WITH ORDINALITY`
   * (PostgreSQL). Where a statement is a network round trip, read-then-write pairs of a
   * delivery are sent as one; SQLite (in-process, no such clauses) runs them one by one.
   */
  readonly writableCte: boolean;
}

/** One SQL statement with its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * How a backend keeps and asks its text index: a trigram filter in each message row
 * (`messages.text_filter`, ./text-filter.ts), written with the row and tested inside the
 * database while the mailbox's rows are read. The filter only narrows: it passes every row
 * whose search text contains the term (a superset is fine, a miss would be a wrong SEARCH
 * answer); ./text-search.ts checks the exact rule on what passes. Both backends since schema
 * 24 (SQLite since 23): PostgreSQL's pg_trgm GIN index it replaced cost the database 0.7 ms
 * of CPU per delivered 10 KB message of ten distinct words and ~3.9 ms per one of synthetic
 * prose (trigram extraction, GIN insertion), the largest part of a delivery's CPU there.
 */
export interface TextIndexDialect {
  /** Shortest term, in code points, the filter can narrow; shorter terms are checked on every row. */
  readonly minTerm: number;
  /**
   * The SQL condition "the filter in `column` may hold every probed trigram" with its
   * parameters (true for a NULL filter: a row not filtered yet); the same test as
   * text-filter.ts mayContain, in the backend's functions.
   */
  condition(column: string, probe: Uint32Array): Statement;
}
