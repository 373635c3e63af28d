/**
 * Versioned schema migrations for PostgreSQL: the same version numbers and meaning as
 * ../sqlite/migrations.ts (a version adds the same tables and columns on both), plus
 * what only a shared database needs (blob bytes, auth throttle counters). Each runs
 * once, in one transaction with its `schema_migrations` row, under an advisory lock so
 * nodes starting together migrate one after the other. Never edit a released
 * migration: add one.
 */
import { StoreError } from '../errors.js';
import type { Conn } from '../core/port.js';
import { indexForm } from '../core/text-search.js';
import { textFilter } from '../core/text-filter.js';
import { sortKeyColumns } from '../core/sort-keys.js';
import type { MessageIndex } from '../../mime/types.js';

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
  /** Runs after `sql` in the same transaction, for what SQL alone cannot do (a backfill computed in JavaScript). */
  run?: (tx: Conn) => Promise<void>;
}

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'initial schema',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('uidvalidity', '0');

      CREATE TABLE domains (id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);

      CREATE TABLE users (
        id SERIAL PRIMARY KEY,
        address TEXT NOT NULL,
        address_key TEXT NOT NULL UNIQUE,
        domain_id INTEGER NOT NULL REFERENCES domains(id),
        password_hash TEXT NOT NULL,
        quota_bytes BIGINT,
        quota_messages BIGINT,
        used_bytes BIGINT NOT NULL DEFAULT 0,
        used_messages BIGINT NOT NULL DEFAULT 0,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL
      );
      CREATE INDEX users_domain ON users(domain_id);

      CREATE TABLE aliases (
        id SERIAL PRIMARY KEY,
        source TEXT NOT NULL,
        source_key TEXT NOT NULL,
        source_domain TEXT NOT NULL,
        target TEXT NOT NULL,
        target_key TEXT NOT NULL,
        UNIQUE (source_key, target_key)
      );
      CREATE INDEX aliases_domain ON aliases(source_domain);

      CREATE TABLE mailboxes (
        id SERIAL PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        special_use TEXT,
        uid_validity BIGINT NOT NULL,
        uid_next BIGINT NOT NULL DEFAULT 1,
        highest_modseq BIGINT NOT NULL DEFAULT 1,
        message_count BIGINT NOT NULL DEFAULT 0,
        total_size BIGINT NOT NULL DEFAULT 0,
        UNIQUE (user_id, name)
      );

      CREATE TABLE subscriptions (
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        PRIMARY KEY (user_id, name)
      );

      CREATE TABLE contents (
        id TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        refcount BIGINT NOT NULL,
        segments TEXT NOT NULL,
        idx TEXT NOT NULL,
        search_text TEXT NOT NULL
      );

      -- Referenced blobs (segment references from contents), as on SQLite.
      CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        refcount BIGINT NOT NULL
      );

      -- Blob bytes when blobs live in the database (the default). Written by BlobStore.put
      -- before the message transaction; deleted with the blobs row when the count reaches 0.
      CREATE TABLE blob_data (hash TEXT PRIMARY KEY, data BYTEA NOT NULL);
      -- EXTERNAL: uncompressed out-of-line storage, so substring() reads only the asked range.
      ALTER TABLE blob_data ALTER COLUMN data SET STORAGE EXTERNAL;

      CREATE TABLE messages (
        id BIGSERIAL PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        uid BIGINT NOT NULL,
        modseq BIGINT NOT NULL,
        flags TEXT NOT NULL DEFAULT '',
        internal_date BIGINT NOT NULL,
        save_date BIGINT NOT NULL,
        size BIGINT NOT NULL,
        content_id TEXT NOT NULL REFERENCES contents(id),
        email_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        UNIQUE (mailbox_id, uid)
      );
      CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
      CREATE INDEX messages_content ON messages(content_id);

      CREATE TABLE private_flags (
        message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        flags TEXT NOT NULL DEFAULT '',
        modseq BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (message_id, user_id)
      );
      CREATE INDEX private_flags_user ON private_flags(user_id);

      CREATE TABLE expunged (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        uid BIGINT NOT NULL,
        modseq BIGINT NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
      );
      CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

      CREATE TABLE thread_refs (
        user_id INTEGER NOT NULL REFERENCES users(id),
        message_id_header TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        PRIMARY KEY (user_id, message_id_header)
      );

      -- Failed logins shared by every node (PgThrottle): one row per failure, pruned by age.
      CREATE TABLE auth_failures (
        id BIGSERIAL PRIMARY KEY,
        kind TEXT NOT NULL,          -- 'ip' or 'account'
        key TEXT NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX auth_failures_key ON auth_failures(kind, key, at);
    `,
  },
  {
    version: 2,
    description: 'POP3: per-row UIDL, leases, last-login times',
    sql: `
      ALTER TABLE messages ADD COLUMN uidl TEXT NOT NULL DEFAULT '';
      UPDATE messages SET uidl = 'U' || md5(random()::text || id::text);

      -- Named locks with expiry (the POP3 maildrop lock); times from the database clock.
      CREATE TABLE leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at BIGINT NOT NULL);

      CREATE TABLE user_logins (
        user_id INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (user_id, kind)
      );
    `,
  },
  {
    version: 3,
    description: 'outbound queue',
    sql: `
      CREATE TABLE queue (
        id TEXT PRIMARY KEY,
        content_id TEXT NOT NULL REFERENCES contents(id),
        size BIGINT NOT NULL,
        sender TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delay_notified_at BIGINT,
        lease_owner TEXT,
        lease_until BIGINT
      );
      CREATE INDEX queue_due ON queue(next_attempt_at);

      CREATE TABLE queue_recipients (
        queue_id TEXT NOT NULL REFERENCES queue(id),
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        notify TEXT,
        orcpt TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT,
        last_result TEXT,
        remote_mta TEXT,
        updated_at BIGINT,
        PRIMARY KEY (queue_id, position)
      );
    `,
  },
  {
    version: 4,
    description: 'outbound queue: DSN owed per recipient',
    sql: 'ALTER TABLE queue_recipients ADD COLUMN dsn_pending INTEGER NOT NULL DEFAULT 0',
  },
  {
    version: 5,
    description: 'mailbox ids are never reused',
    // mailboxes.id is SERIAL: ids come from a sequence, which never hands a value out twice
    // (nextval is not rolled back either). Nothing to change here; the version exists so that
    // both backends mean the same by schema version 5 (see the SQLite migration).
    sql: 'SELECT 1',
  },
  {
    version: 6,
    description: 'text index for SEARCH',
    // See core/text-search.ts: the search text lower-cased in JavaScript, so the database's
    // locale never decides what matches; LIKE on it is exact, the trigram index makes it fast.
    sql: `
      CREATE TABLE content_search (
        content_id TEXT PRIMARY KEY REFERENCES contents(id),
        text TEXT NOT NULL
      );
    `,
    run: async (tx) => {
      await trigramIndex(tx);
      await backfillTextIndex(tx);
    },
  },
  {
    version: 7,
    description: 'covering index for SELECT and STATUS of big mailboxes',
    // Index-only scans for mailboxSnapshot and the STATUS counts (as the SQLite migration).
    sql: 'CREATE INDEX IF NOT EXISTS messages_uid_flags ON messages (mailbox_id, uid) INCLUDE (flags, size)',
  },
  {
    version: 8,
    description: 'expunge log retention: tombstone count and pruned floor per mailbox',
    sql: `
      ALTER TABLE mailboxes ADD COLUMN expunged_count BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE mailboxes ADD COLUMN expunged_floor BIGINT NOT NULL DEFAULT 0;
      UPDATE mailboxes SET expunged_count = (SELECT count(*) FROM expunged e WHERE e.mailbox_id = mailboxes.id);
    `,
  },
  {
    version: 9,
    description: 'members and device passwords; private \\Seen per member',
    // As the SQLite migration: private_flags.user_id becomes a viewer id (a user id, or minus a
    // member id), shared_modseq the MODSEQ of a row's last change other than the owner's \Seen.
    sql: `
      CREATE TABLE members (
        id SERIAL PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (user_id, name_key)
      );
      CREATE TABLE devices (
        id SERIAL PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        member_id INTEGER REFERENCES members(id),
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        secret_digest TEXT NOT NULL UNIQUE,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL,
        last_login_at BIGINT,
        last_protocol TEXT,
        last_address TEXT,
        UNIQUE (user_id, name_key)
      );
      ALTER TABLE private_flags DROP CONSTRAINT IF EXISTS private_flags_user_id_fkey;
      ALTER TABLE messages ADD COLUMN shared_modseq BIGINT;
    `,
  },
  {
    version: 10,
    description: 'Recently Deleted: a mailbox per user and the deletion record of each kept message',
    // As the SQLite migration (store/core/deleted.ts).
    sql: `
      ALTER TABLE mailboxes ADD COLUMN recently_deleted SMALLINT NOT NULL DEFAULT 0;
      CREATE TABLE deleted_messages (
        message_id BIGINT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        user_id BIGINT NOT NULL REFERENCES users(id),
        deleted_at BIGINT NOT NULL,
        mailbox_id BIGINT NOT NULL,
        mailbox_name TEXT NOT NULL,
        protocol TEXT NOT NULL,
        actor TEXT NOT NULL,
        charged SMALLINT NOT NULL
      );
      CREATE INDEX deleted_messages_due ON deleted_messages (deleted_at);
      CREATE INDEX deleted_messages_user ON deleted_messages (user_id, deleted_at);
    `,
  },
  {
    version: 11,
    description: 'per-mailbox counts of \\Seen and \\Deleted rows',
    // STATUS UNSEEN/DELETED read these (kept by store/core/messages.ts) instead of scanning the mailbox.
    sql: `
      ALTER TABLE mailboxes ADD COLUMN seen_count BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE mailboxes ADD COLUMN deleted_count BIGINT NOT NULL DEFAULT 0;
      UPDATE mailboxes SET
        seen_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND position(' \\Seen ' in ' ' || m.flags || ' ') > 0),
        deleted_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND position(' \\Deleted ' in ' ' || m.flags || ' ') > 0);
    `,
  },
  {
    version: 12,
    description: 'bytes each blob takes at rest (compression)',
    // As the SQLite migration. NULL: the logical size (blobs in the database, which TOAST
    // already compresses, and every blob stored before this version).
    sql: `
      ALTER TABLE blobs ADD COLUMN stored_size BIGINT;
    `,
  },
  {
    version: 13,
    description: 'Per-device hidden messages (device setting delete=device)',
    // As the SQLite migration (store/core/device-hidden.ts).
    sql: `
      CREATE TABLE device_hidden (
        device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        PRIMARY KEY (device_id, message_id)
      );
      CREATE INDEX device_hidden_message ON device_hidden (message_id);
    `,
  },
  {
    version: 14,
    description: 'SCRAM verifiers per user (salt, iterations, StoredKey, ServerKey per mechanism)',
    // As the SQLite migration (src/auth/scram-keys.ts).
    sql: `ALTER TABLE users ADD COLUMN scram_keys TEXT NOT NULL DEFAULT '';`,
  },
  {
    version: 15,
    description: 'Failed logins and the devices and addresses an account logged in from',
    // As the SQLite migration (store/core/login-events.ts).
    sql: `
      CREATE TABLE login_failures (
        id BIGSERIAL PRIMARY KEY,
        user_id INTEGER,
        at BIGINT NOT NULL,
        username TEXT NOT NULL,
        protocol TEXT NOT NULL,
        address TEXT NOT NULL,
        device TEXT,
        reason TEXT NOT NULL
      );
      CREATE INDEX login_failures_user ON login_failures (user_id, id);
      CREATE TABLE login_origins (
        user_id INTEGER NOT NULL REFERENCES users(id),
        origin TEXT NOT NULL,
        first_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, origin)
      );
    `,
  },
  {
    version: 16,
    description: 'Quota warning level already announced per user (80/95 %)',
    // As the SQLite migration (store/core/quota-warning.ts).
    sql: 'ALTER TABLE users ADD COLUMN quota_warned INTEGER NOT NULL DEFAULT 0',
  },
  {
    version: 17,
    description: 'METADATA entries on mailboxes and the server (RFC 5464)',
    // As the SQLite migration (store/core/metadata.ts).
    sql: `
      CREATE TABLE metadata (
        user_id BIGINT NOT NULL REFERENCES users(id),
        mailbox_id BIGINT NOT NULL,
        owner BIGINT NOT NULL,
        name TEXT NOT NULL,
        value BYTEA NOT NULL,
        PRIMARY KEY (user_id, mailbox_id, owner, name)
      );
    `,
  },
  {
    version: 18,
    description: 'Vacation replies: when each sender last got one (RFC 3834)',
    // As the SQLite migration (store/core/vacation.ts).
    sql: `
      CREATE TABLE vacation_replies (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sender TEXT NOT NULL,
        replied_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, sender)
      );
    `,
  },
  {
    version: 19,
    description: 'Mailbox sharing: access control lists (RFC 4314)',
    // As the SQLite migration (store/core/acl.ts).
    sql: `
      CREATE TABLE acl (
        mailbox_id BIGINT NOT NULL,
        owner_id BIGINT NOT NULL,
        grantee_id BIGINT NOT NULL,
        rights TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, grantee_id)
      );
      CREATE INDEX acl_grantee ON acl(grantee_id);
    `,
  },
  {
    version: 20,
    description: 'Small blobs inside the database (blob_inline)',
    // As the SQLite migration (store/blob/inline.ts). Already compressed by the codec, so
    // PostgreSQL is told not to try again (EXTERNAL: out of line only when the row is big).
    sql: `
      CREATE TABLE blob_inline (id BIGSERIAL PRIMARY KEY, data BYTEA NOT NULL);
      ALTER TABLE blob_inline ALTER COLUMN data SET STORAGE EXTERNAL;
      ALTER TABLE blobs ADD COLUMN inline_id BIGINT;
    `,
  },
  {
    version: 21,
    description: 'URLAUTH mailbox access keys, per user per mailbox (RFC 4467 2.2)',
    // As the SQLite migration (store/core/urlauth-keys.ts).
    sql: `
      CREATE TABLE urlauth_keys (
        user_id BIGINT NOT NULL REFERENCES users(id),
        mailbox_id BIGINT NOT NULL,
        access_key BYTEA NOT NULL,
        PRIMARY KEY (user_id, mailbox_id)
      );
    `,
  },
  {
    version: 22,
    description: 'SORT and THREAD keys per message: sent date, msg-id, parent chain, subject',
    // As the SQLite migration (store/core/sort-keys.ts), filled for the rows stored before.
    sql: `
      ALTER TABLE messages ADD COLUMN sent_date BIGINT;
      ALTER TABLE messages ADD COLUMN thread_keys TEXT;
    `,
    run: backfillSortKeys,
  },
  {
    version: 23,
    description: 'Text index as a trigram filter per message row instead of FTS5 (issue 13: storage density)',
    // SQLite's 23 replaces its FTS5 index by messages.text_filter (core/text-filter.ts).
    // PostgreSQL keeps pg_trgm, which the database asks itself, so nothing changes here; the
    // version moves with SQLite's because `store copy` needs both sides at one version.
    // (Tried for PostgreSQL's density: toast_tuple_target = 128 with STORAGE MAIN on the
    // index JSON and search text. PostgreSQL 15 compresses only rows past ~2 KB whatever the
    // target, so a small message's row stayed as it was.)
    sql: 'SELECT 1',
  },
  {
    version: 24,
    description: 'Text index as a trigram filter per message row instead of pg_trgm (issue 10: delivery CPU)',
    // As SQLite's 23 (core/text-filter.ts, core/port.ts TextIndexDialect): the GIN index cost
    // the database more CPU per delivery than everything else it did for it. Filled here for
    // every row from its content's search text, then content_search and its index go.
    // text_filter is hash bits, which TOAST cannot compress (EXTERNAL: it does not try). The
    // search text and index JSON, which TOAST does compress past ~2 KB a row, take lz4 where
    // the server has it: a few times less CPU than pglz (the default) for a similar size.
    sql: `
      ALTER TABLE messages ADD COLUMN text_filter BYTEA;
      ALTER TABLE messages ALTER COLUMN text_filter SET STORAGE EXTERNAL;
    `,
    run: async (tx) => {
      await backfillTextFilters(tx);
      await tx.exec('DROP TABLE IF EXISTS content_search');
      if (await hasLz4(tx)) await tx.exec('ALTER TABLE contents ALTER COLUMN search_text SET COMPRESSION lz4, ALTER COLUMN idx SET COMPRESSION lz4');
    },
  },
];

/** Whether the server can compress TOAST with lz4 (PostgreSQL 14+ built with it). */
async function hasLz4(tx: Conn): Promise<boolean> {
  const r = await tx.get<{ lz4: boolean }>(`SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`);
  return r?.lz4 === true;
}

/**
 * Fills the text filter of every row without one: 500 contents per read (ids ascending) and
 * one UPDATE for all their rows (a statement per content made a big database's migration
 * one round trip per stored message).
 */
export async function backfillTextFilters(tx: Conn): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await tx.query<{ id: string; search_text: string }>('SELECT id, search_text FROM contents WHERE id > ? ORDER BY id LIMIT 500', [after]);
    if (rows.length === 0) return;
    await tx.exec(
      'UPDATE messages m SET text_filter = f.filter FROM unnest(?::text[], ?::bytea[]) AS f(id, filter) WHERE m.content_id = f.id AND m.text_filter IS NULL',
      [rows.map((r) => r.id), rows.map((r) => textFilter(indexForm(r.search_text)))],
    );
    after = rows[rows.length - 1].id;
  }
}

/** Fills the sort keys of every row without them, a content at a time (a batch of contents per read, ids ascending). */
export async function backfillSortKeys(tx: Conn): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await tx.query<{ id: string; idx: string; search_text: string }>('SELECT id, idx, search_text FROM contents WHERE id > ? ORDER BY id LIMIT 500', [after]);
    if (rows.length === 0) return;
    for (const r of rows) {
      await tx.exec('UPDATE messages SET sent_date = ?, thread_keys = ? WHERE content_id = ? AND thread_keys IS NULL', [...sortKeyColumns(JSON.parse(r.idx) as MessageIndex, r.search_text), r.id]);
    }
    after = rows[rows.length - 1].id;
  }
}

/**
 * The GIN trigram index on content_search.text (schemas 6 to 23). pg_trgm is a trusted extension (PostgreSQL
 * 13+: a database owner may create it); where it cannot be created, LIKE still answers
 * exactly, by scanning, and the server says so once in its log at migration.
 */
async function trigramIndex(tx: Conn): Promise<void> {
  await tx.exec('SAVEPOINT trgm');
  try {
    await tx.exec('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    await tx.exec('RELEASE SAVEPOINT trgm');
  } catch (err) {
    await tx.exec('ROLLBACK TO SAVEPOINT trgm');
    console.warn(`mailroom: pg_trgm is not available (${(err as Error).message}); SEARCH TEXT/BODY will scan instead of using an index`);
    return;
  }
  // The extension may live in a schema outside search_path (one schema per tenant or test).
  const ext = await tx.get<{ schema: string }>(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`);
  const schema = `"${ext!.schema.replace(/"/g, '""')}"`;
  await tx.exec(`CREATE INDEX content_search_trgm ON content_search USING gin (text ${schema}.gin_trgm_ops)`);
}

/** Indexes every content stored before migration 6 in content_search (schemas 6 to 23), a batch at a time, ids ascending. */
async function backfillTextIndex(tx: Conn): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await tx.query<{ id: string; search_text: string }>('SELECT id, search_text FROM contents WHERE id > ? ORDER BY id LIMIT 500', [after]);
    if (rows.length === 0) return;
    for (const r of rows) {
      await tx.exec('INSERT INTO content_search (content_id, text) VALUES (?, ?)', [r.id, indexForm(r.search_text)]);
    }
    after = rows[rows.length - 1].id;
  }
}

export const pgLatestVersion = pgMigrations.reduce((max, m) => Math.max(max, m.version), 0);

/** Any 64-bit constant: the advisory lock key of "migrating". */
const MIGRATION_LOCK = 7_424_221_001;

export async function pgCurrentVersion(tx: Conn): Promise<number> {
  const t = await tx.get<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!t?.t) return 0;
  return (await tx.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations'))?.v ?? 0;
}

/** Applies pending migrations inside the caller's transaction; 'invalid' when the database is newer. */
export async function pgMigrate(tx: Conn, list: readonly PgMigration[] = pgMigrations): Promise<void> {
  await tx.exec('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
  await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
  const current = await pgCurrentVersion(tx);
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new StoreError('invalid', `database schema version ${current} is newer than this Mailroom supports (${latest}); upgrade Mailroom or restore a matching backup`);
  }
  // Every migration not recorded runs, not only those above the newest recorded: a
  // version is a set of changes, and a gap (a database restored from an older branch's
  // build, a test rebuilding one step) must not silently skip one.
  const applied = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    await tx.exec(m.sql);
    if (m.run) await m.run(tx);
    await tx.exec('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now()]);
  }
}
