/**
 * Versioned schema migrations. Each entry runs once, in order, inside one IMMEDIATE
 * transaction together with its `schema_migrations` row, so a crash mid-migration
 * leaves the previous version intact. Never edit a released migration: add one.
 */
import { StoreError } from '../errors.js';
import type { Db } from './driver.js';
import { indexForm } from '../core/text-search.js';
import { inlineMessage, WITH_INLINE_MESSAGE } from '../core/contents.js';
import { unpackIndex, unpackSearchText } from '../core/packed-text.js';
import { sortKeyColumns } from '../core/sort-keys.js';
import { textFilter } from '../core/text-filter.js';
import type { MessageIndex } from '../../mime/types.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Db): void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE domains (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE
        );

        CREATE TABLE users (
          id INTEGER PRIMARY KEY,
          address TEXT NOT NULL,
          address_key TEXT NOT NULL UNIQUE,           -- lower-cased address: lookups are case-insensitive
          domain_id INTEGER NOT NULL REFERENCES domains(id),
          password_hash TEXT NOT NULL,
          quota_bytes INTEGER,
          quota_messages INTEGER,
          used_bytes INTEGER NOT NULL DEFAULT 0,
          used_messages INTEGER NOT NULL DEFAULT 0,
          settings TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL
        );
        CREATE INDEX users_domain ON users(domain_id);

        CREATE TABLE aliases (
          id INTEGER PRIMARY KEY,
          source TEXT NOT NULL,
          source_key TEXT NOT NULL,
          source_domain TEXT NOT NULL,
          target TEXT NOT NULL,
          target_key TEXT NOT NULL,
          UNIQUE (source_key, target_key)
        );
        CREATE INDEX aliases_domain ON aliases(source_domain);

        CREATE TABLE mailboxes (
          id INTEGER PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          special_use TEXT,
          uid_validity INTEGER NOT NULL,
          uid_next INTEGER NOT NULL DEFAULT 1,
          highest_modseq INTEGER NOT NULL DEFAULT 1,
          message_count INTEGER NOT NULL DEFAULT 0,
          total_size INTEGER NOT NULL DEFAULT 0,
          UNIQUE (user_id, name)
        );

        CREATE TABLE subscriptions (
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          PRIMARY KEY (user_id, name)
        );

        CREATE TABLE contents (
          id TEXT PRIMARY KEY,                        -- sha256 hex of the raw message
          size INTEGER NOT NULL,
          refcount INTEGER NOT NULL,                  -- message rows pointing here
          segments TEXT NOT NULL,                     -- JSON [{hash,size}]; '' when the one segment is the id itself (core/contents.ts storedSegments)
          idx TEXT NOT NULL,                          -- JSON MessageIndex
          search_text TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE blobs (
          hash TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          refcount INTEGER NOT NULL                   -- segment references from content rows
        ) WITHOUT ROWID;

        CREATE TABLE messages (
          id INTEGER PRIMARY KEY,
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
          uid INTEGER NOT NULL,
          modseq INTEGER NOT NULL,
          flags TEXT NOT NULL DEFAULT '',             -- space-separated, case as first used
          internal_date INTEGER NOT NULL,             -- ms since epoch
          save_date INTEGER NOT NULL,
          size INTEGER NOT NULL,
          content_id TEXT NOT NULL REFERENCES contents(id),
          email_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          UNIQUE (mailbox_id, uid)
        );
        CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
        CREATE INDEX messages_content ON messages(content_id);

        -- Per-person flags (e.g. \\Seen on a shared mailbox), merged into the viewer's rows.
        CREATE TABLE private_flags (
          message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
          user_id INTEGER NOT NULL REFERENCES users(id),
          flags TEXT NOT NULL DEFAULT '',
          modseq INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (message_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX private_flags_user ON private_flags(user_id);

        -- The expunge log (QRESYNC VANISHED, POP3 hide); UIDs are never reused so (mailbox, uid) is unique.
        CREATE TABLE expunged (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
          uid INTEGER NOT NULL,
          modseq INTEGER NOT NULL,
          PRIMARY KEY (mailbox_id, uid)
        ) WITHOUT ROWID;
        CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

        CREATE TABLE thread_refs (
          user_id INTEGER NOT NULL REFERENCES users(id),
          message_id_header TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          PRIMARY KEY (user_id, message_id_header)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'POP3: per-row UIDL, leases, last-login times',
    up(db) {
      db.exec(`
        -- RFC 1939 UIDL per row: kept by MOVE (the row moves), new for COPY/APPEND.
        ALTER TABLE messages ADD COLUMN uidl TEXT NOT NULL DEFAULT '';
        UPDATE messages SET uidl = 'U' || lower(hex(randomblob(16)));

        -- Named locks with expiry (the POP3 maildrop lock), renewed by their holder.
        CREATE TABLE leases (
          key TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          expires_at INTEGER NOT NULL                 -- ms since epoch
        ) WITHOUT ROWID;

        -- Last successful login per user and kind (RFC 2449 LOGIN-DELAY).
        CREATE TABLE user_logins (
          user_id INTEGER NOT NULL REFERENCES users(id),
          kind TEXT NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (user_id, kind)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    description: 'outbound queue',
    up(db) {
      db.exec(`
        -- One row per queued message; it holds one reference to its content (contents.refcount).
        CREATE TABLE queue (
          id TEXT PRIMARY KEY,
          content_id TEXT NOT NULL REFERENCES contents(id),
          size INTEGER NOT NULL,
          sender TEXT NOT NULL,                       -- '' = null sender
          params TEXT NOT NULL DEFAULT '{}',          -- JSON QueueParams
          created_at INTEGER NOT NULL,
          next_attempt_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          delay_notified_at INTEGER,
          lease_owner TEXT,                           -- the worker holding it, until lease_until (ms)
          lease_until INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX queue_due ON queue(next_attempt_at);

        CREATE TABLE queue_recipients (
          queue_id TEXT NOT NULL REFERENCES queue(id),
          position INTEGER NOT NULL,
          address TEXT NOT NULL,
          notify TEXT,                                -- RFC 3461 NOTIFY, comma-separated; NULL = default
          orcpt TEXT,
          state TEXT NOT NULL DEFAULT 'pending',      -- pending | delivered | failed (final)
          attempts INTEGER NOT NULL DEFAULT 0,
          status TEXT,
          last_result TEXT,
          remote_mta TEXT,
          updated_at INTEGER,
          PRIMARY KEY (queue_id, position)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 4,
    description: 'outbound queue: DSN owed per recipient',
    up(db) {
      // Set with the final result in one transaction; cleared after the DSN is sent.
      db.exec('ALTER TABLE queue_recipients ADD COLUMN dsn_pending INTEGER NOT NULL DEFAULT 0');
    },
  },
  {
    version: 5,
    description: 'mailbox ids are never reused',
    up(db) {
      // Seeds the counter of store/core/mailboxes.ts nextMailboxId with the highest id in use now, so
      // a mailbox deleted after this migration cannot give its id to the next one. (Ids freed
      // before it are unknowable; each re-created mailbox had a new UIDVALIDITY anyway.)
      db.exec(`INSERT OR IGNORE INTO meta (key, value) SELECT 'mailbox_id', CAST(coalesce(max(id), 0) AS TEXT) FROM mailboxes`);
    },
  },
  {
    version: 6,
    description: 'text index for SEARCH',
    up(db) {
      // See core/text-search.ts. Contentless: the text stays only in contents.search_text;
      // contentless_delete lets a dropped content take its entry with it. detail=none keeps
      // no positions: a fifth of the size (measured: ~4.7 KB instead of ~23 KB of index per
      // 7 KB of text) and half the insert time; a term is then looked up as all of its
      // trigrams, a superset the exact check in core trims.
      db.exec(`
        CREATE TABLE content_search (
          doc INTEGER PRIMARY KEY,                    -- rowid of content_fts
          content_id TEXT NOT NULL UNIQUE REFERENCES contents(id)
        );
        CREATE VIRTUAL TABLE content_fts USING fts5(text, content='', contentless_delete=1, detail=none, tokenize='trigram');
      `);
      backfillTextIndex(db);
    },
  },
  {
    version: 7,
    description: 'covering index for SELECT and STATUS of big mailboxes',
    up(db) {
      // UID, flags and size of a mailbox's rows from the index alone: SELECT (mailboxSnapshot)
      // and STATUS counts scan it instead of visiting every table row.
      db.exec('CREATE INDEX IF NOT EXISTS messages_uid_flags ON messages(mailbox_id, uid, flags, size)');
    },
  },
  {
    version: 8,
    description: 'expunge log retention: tombstone count and pruned floor per mailbox',
    up(db) {
      // store/core/messages.ts logExpunged: past the count limit the oldest tombstones go and
      // expunged_floor says up to which MODSEQ the log is no longer complete (QRESYNC).
      db.exec(`
        ALTER TABLE mailboxes ADD COLUMN expunged_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN expunged_floor INTEGER NOT NULL DEFAULT 0;
        UPDATE mailboxes SET expunged_count = (SELECT count(*) FROM expunged e WHERE e.mailbox_id = mailboxes.id);
      `);
    },
  },
  {
    version: 9,
    description: 'members and device passwords; private \\Seen per member',
    up(db) {
      // private_flags.user_id becomes a viewer id: a user id, or minus a member id (store/core/people.ts),
      // so its foreign key to users goes; SQLite drops a foreign key only by rebuilding the table.
      // shared_modseq: the MODSEQ of a row's last change other than the owner's \Seen (NULL: modseq),
      // so the owner's reading is no change for the other members (RFC 7162 stays per viewer).
      db.exec(`
        CREATE TABLE members (
          id INTEGER PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          name_key TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (user_id, name_key)
        );
        CREATE TABLE devices (
          id INTEGER PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES users(id),
          member_id INTEGER REFERENCES members(id),
          name TEXT NOT NULL,
          name_key TEXT NOT NULL,
          secret_digest TEXT NOT NULL UNIQUE,
          settings TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL,
          last_login_at INTEGER,
          last_protocol TEXT,
          last_address TEXT,
          UNIQUE (user_id, name_key)
        );
        CREATE TABLE private_flags_new (
          message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
          user_id INTEGER NOT NULL,
          flags TEXT NOT NULL DEFAULT '',
          modseq INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (message_id, user_id)
        ) WITHOUT ROWID;
        INSERT INTO private_flags_new SELECT message_id, user_id, flags, modseq FROM private_flags;
        DROP TABLE private_flags;
        ALTER TABLE private_flags_new RENAME TO private_flags;
        CREATE INDEX private_flags_user ON private_flags(user_id);
        ALTER TABLE messages ADD COLUMN shared_modseq INTEGER;
        `);
      },
    },
    {
    version: 10,
    description: 'Recently Deleted: a mailbox per user and the deletion record of each kept message',
    up(db) {
      // store/core/deleted.ts. A kept message is an ordinary row of the user's Recently Deleted
      // mailbox (its content reference stays); this table says when, from where, how and by
      // whom it was deleted, and whether it still counts against quota. It goes with the row.
      db.exec(`
        ALTER TABLE mailboxes ADD COLUMN recently_deleted INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE deleted_messages (
          message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
          user_id INTEGER NOT NULL REFERENCES users(id),
          deleted_at INTEGER NOT NULL,
          mailbox_id INTEGER NOT NULL,                -- no reference: the mailbox may be deleted since
          mailbox_name TEXT NOT NULL,
          protocol TEXT NOT NULL,
          actor TEXT NOT NULL,
          charged INTEGER NOT NULL                    -- 1: still counted in users.used_*
        );
        CREATE INDEX deleted_messages_due ON deleted_messages(deleted_at);
        CREATE INDEX deleted_messages_user ON deleted_messages(user_id, deleted_at);
        `);
      },
    },
    {
    version: 11,
    description: 'per-mailbox counts of \\Seen and \\Deleted rows',
    up(db) {
      // STATUS UNSEEN/DELETED read these counters (store/core/messages.ts keeps them in the
      // same transaction as the rows) instead of scanning the mailbox. Flags are stored
      // canonical and space-separated, so a padded exact-token test counts them.
      db.exec(`
        ALTER TABLE mailboxes ADD COLUMN seen_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN deleted_count INTEGER NOT NULL DEFAULT 0;
        UPDATE mailboxes SET
          seen_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND instr(' ' || m.flags || ' ', ' \\Seen ') > 0),
          deleted_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND instr(' ' || m.flags || ' ', ' \\Deleted ') > 0);
      `);
    },
  },
  {
    version: 12,
    description: 'bytes each blob takes at rest (compression)',
    up(db) {
      // store/blob/compressed.ts keeps large compressible blobs as brotli files; core/contents.ts
      // records the file's size here when the blob row is made, for `mailroom usage`. NULL: the
      // logical size (every blob stored before this version is a plain file).
      db.exec('ALTER TABLE blobs ADD COLUMN stored_size INTEGER');
    },
  },
  {
    version: 13,
    description: 'Per-device hidden messages (device setting delete=device)',
    up(db) {
      // store/core/device-hidden.ts. Keyed by message row so an expunge elsewhere or a
      // revoked device takes its entries with it.
      db.exec(`
        CREATE TABLE device_hidden (
          device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
          message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
          PRIMARY KEY (device_id, message_id)
        );
        CREATE INDEX device_hidden_message ON device_hidden(message_id);
      `);
    },
  },
  {
    version: 14,
    description: 'SCRAM verifiers per user (salt, iterations, StoredKey, ServerKey per mechanism)',
    up(db) {
      // src/auth/scram-keys.ts writes and reads the text; '' = none yet (a password set before
      // this version): SCRAM refuses such a user until a PLAIN/LOGIN login or a new password.
      db.exec(`ALTER TABLE users ADD COLUMN scram_keys TEXT NOT NULL DEFAULT ''`);
    },
  },
  {
    version: 15,
    description: 'Failed logins and the devices and addresses an account logged in from',
    up(db) {
      // store/core/login-events.ts. Failed logins: the newest 20 per account and a bounded
      // list for names that are no account (user_id NULL). Origins: the first time each
      // device or client address logged in, so the first login from a new one is noticed.
      db.exec(`
        CREATE TABLE login_failures (
          id INTEGER PRIMARY KEY,
          user_id INTEGER,
          at INTEGER NOT NULL,
          username TEXT NOT NULL,
          protocol TEXT NOT NULL,
          address TEXT NOT NULL,
          device TEXT,
          reason TEXT NOT NULL
        );
        CREATE INDEX login_failures_user ON login_failures(user_id, id);
        CREATE TABLE login_origins (
          user_id INTEGER NOT NULL REFERENCES users(id),
          origin TEXT NOT NULL,
          first_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, origin)
        );
      `);
    },
  },
  {
    version: 16,
    description: 'Quota warning level already announced per user (80/95 %)',
    up(db) {
      // store/core/quota-warning.ts: raised by claimQuotaWarning, lowered when usage drops
      // below a threshold (or a limit is raised), so each crossing is announced once.
      db.exec('ALTER TABLE users ADD COLUMN quota_warned INTEGER NOT NULL DEFAULT 0');
    },
  },
  {
    version: 17,
    description: 'METADATA entries on mailboxes and the server (RFC 5464)',
    up(db) {
      // store/core/metadata.ts. mailbox_id 0 is the server, owner 0 is /shared, else the
      // viewer whose /private entry it is; rows go with the mailbox, member or user.
      db.exec(`
        CREATE TABLE metadata (
          user_id INTEGER NOT NULL REFERENCES users(id),
          mailbox_id INTEGER NOT NULL,
          owner INTEGER NOT NULL,
          name TEXT NOT NULL,
          value BLOB NOT NULL,
          PRIMARY KEY (user_id, mailbox_id, owner, name)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 18,
    description: 'Vacation replies: when each sender last got one (RFC 3834)',
    up(db) {
      // store/core/vacation.ts
      db.exec(`
        CREATE TABLE vacation_replies (
          user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          sender TEXT NOT NULL,
          replied_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, sender)
        );
      `);
    },
  },
  {
    version: 19,
    description: 'Mailbox sharing: access control lists (RFC 4314)',
    up(db) {
      // store/core/acl.ts: grantee 0 is `anyone`; no foreign keys, the rows go with their
      // mailbox (deleteMailboxRow) and grantee (deleteUser) in the same transaction
      db.exec(`
        CREATE TABLE acl (
          mailbox_id INTEGER NOT NULL,
          owner_id INTEGER NOT NULL,
          grantee_id INTEGER NOT NULL,
          rights TEXT NOT NULL,
          PRIMARY KEY (mailbox_id, grantee_id)
        );
        CREATE INDEX acl_grantee ON acl(grantee_id);
      `);
    },
  },
  {
    version: 20,
    description: 'Small blobs inside the database (blob_inline)',
    // store/blob/inline.ts: a blob of up to 16 KiB is a blob_inline row (a codec byte and
    // the bytes, brotli-compressed when that pays) that blobs.inline_id points at, instead
    // of a file; NULL: a file. A rowid table, not a column of blobs: blobs is WITHOUT
    // ROWID, where a row over ~1,000 bytes spills into an overflow page of its own (4 KiB
    // for a 1 KB blob, measured); a rowid table keeps rows up to ~4 KB in its leaf pages.
    up(db) {
      db.exec(`
        CREATE TABLE blob_inline (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
        ALTER TABLE blobs ADD COLUMN inline_id INTEGER;
      `);
    },
  },
  {
    version: 21,
    description: 'URLAUTH mailbox access keys, per user per mailbox (RFC 4467 2.2)',
    up(db) {
      // store/core/urlauth-keys.ts: one random key per (user, mailbox); RESETKEY replaces or drops
      // them, and they go with the mailbox and the user.
      db.exec(`
        CREATE TABLE urlauth_keys (
          user_id INTEGER NOT NULL REFERENCES users(id),
          mailbox_id INTEGER NOT NULL,
          access_key BLOB NOT NULL,
          PRIMARY KEY (user_id, mailbox_id)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 22,
    description: 'SORT and THREAD keys per message: sent date, msg-id, parent chain, subject',
    up(db) {
      // store/core/sort-keys.ts: the first SORT (DATE) or THREAD of a big mailbox reads these
      // with the mailbox's rows instead of every message's index and header. Filled here for
      // the rows stored before, once per content (from its index and the header lines of its
      // search text, all in the database: 4.7 s for 100,000 at load 5), then at delivery.
      db.exec(`
        ALTER TABLE messages ADD COLUMN sent_date INTEGER;
        ALTER TABLE messages ADD COLUMN thread_keys TEXT;
      `);
      backfillSortKeys(db);
    },
  },
  {
    version: 23,
    description: 'Text index as a trigram filter per message row instead of FTS5 (issue 13: storage density)',
    up(db) {
      // core/text-filter.ts: ~0.24 KB a small message where content_fts and content_search took
      // ~1.45 KB. Filled here for every row from its content's search text (all in the
      // database), then the FTS5 tables go; their pages return to the free list, reused by
      // what comes next (the file shrinks only by a VACUUM).
      db.exec('ALTER TABLE messages ADD COLUMN text_filter BLOB');
      backfillTextFilters(db);
      db.exec('DROP TABLE IF EXISTS content_fts; DROP TABLE IF EXISTS content_search');
    },
  },
  {
    version: 24,
    description: 'Text index as a trigram filter per message row instead of pg_trgm (issue 10: delivery CPU)',
    // What PostgreSQL's 24 does SQLite did at 23; the version moves with PostgreSQL's because
    // `store copy` needs both sides at one version.
    up() {},
  },
];

/** Fills the text filter of every row without one, a content at a time (a batch of contents per read, ids ascending). */
export function backfillTextFilters(db: Db): void {
  const next = db.prepare(`SELECT c.id, c.search_text, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id > ? ORDER BY c.id LIMIT 500`);
  const set = db.prepare('UPDATE messages SET text_filter = ? WHERE content_id = ? AND text_filter IS NULL');
  let after = '';
  for (;;) {
    const rows = next.all(after) as { id: string; search_text: string | Buffer; data: Buffer | null }[];
    if (rows.length === 0) return;
    for (const r of rows) set.run(textFilter(indexForm(unpackSearchText(r.search_text, r.id, inlineMessage(r.id, r.data)))), r.id);
    after = rows[rows.length - 1].id;
  }
}

/** Fills the sort keys of every row without them, a content at a time (a batch of contents per read, ids ascending). */
export function backfillSortKeys(db: Db): void {
  const next = db.prepare(`SELECT c.id, c.idx, c.search_text, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id > ? ORDER BY c.id LIMIT 500`);
  const set = db.prepare('UPDATE messages SET sent_date = ?, thread_keys = ? WHERE content_id = ? AND thread_keys IS NULL');
  let after = '';
  for (;;) {
    const rows = next.all(after) as { id: string; idx: string | Buffer; search_text: string | Buffer; data: Buffer | null }[];
    if (rows.length === 0) return;
    for (const r of rows) {
      const index = JSON.parse(unpackIndex(r.idx, r.id)) as MessageIndex;
      set.run(...sortKeyColumns(index, unpackSearchText(r.search_text, r.id, inlineMessage(r.id, r.data))), r.id);
    }
    after = rows[rows.length - 1].id;
  }
}

/** Indexes every content stored before migration 6 in the FTS5 tables of schemas 6 to 22, a batch at a time, ids ascending. */
function backfillTextIndex(db: Db): void {
  // Before migration 20 there is no blob_inline to join, and no packed text to read with it.
  const packed = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blob_inline'`).get() !== undefined;
  const next = db.prepare(
    packed
      ? `SELECT c.id, c.search_text, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id > ? ORDER BY c.id LIMIT 500`
      : 'SELECT id, search_text, NULL AS data FROM contents WHERE id > ? ORDER BY id LIMIT 500',
  );
  let after = '';
  for (;;) {
    const rows = next.all(after) as { id: string; search_text: string | Buffer; data: Buffer | null }[];
    if (rows.length === 0) return;
    for (const r of rows) {
      const text = unpackSearchText(r.search_text, r.id, inlineMessage(r.id, r.data));
      // the statements of the FTS5 index as it was (migration 23 replaced it)
      db.prepare('INSERT INTO content_search (content_id) VALUES (?)').run(r.id);
      db.prepare('INSERT INTO content_fts (rowid, text) SELECT doc, ? FROM content_search WHERE content_id = ?').run(indexForm(text), r.id);
    }
    after = rows[rows.length - 1].id;
  }
}

/** The newest schema version this code knows. */
export const latestVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0);

/** Current version recorded in the database (0 for an empty one). */
export function currentVersion(db: Db): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies pending migrations; a no-op when up to date; 'invalid' when the database is newer than this code. */
export function migrate(db: Db, list: readonly Migration[] = migrations): void {
  const run = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = currentVersion(db);
    const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > latest) {
      throw new StoreError(
        'invalid',
        `database schema version ${current} is newer than this Mailroom supports (${latest}); upgrade Mailroom or restore a matching backup`,
      );
    }
    // Every migration not recorded runs, not only those above the newest recorded: a
    // version is a set of changes, and a gap (a test rebuilding one step) must not
    // silently skip one.
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      m.up(db);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    }
  });
  run.immediate(); // IMMEDIATE: two processes starting together migrate one after the other
}
