// Another process holds the SQLite write lock (a CLI command in a long transaction can): an
// APPEND waits for it, and meanwhile the server still answers a command that needs no store,
// because the waiting happens in the store's worker thread, not on the event loop. On the main
// thread the whole server stopped for the lock (up to the 10 s busy timeout).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

describe('IMAP while another process holds the store write lock', () => {
  let server: RunningTestServer;
  after(async () => {
    await server?.stop();
  });

  test('CAPABILITY is answered while an APPEND waits for the lock; the APPEND completes once it is released', async () => {
    server = await startImapServer();
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    await a.ok('SELECT INBOX');
    const db = new Database(join(server.dataDir, 'mailroom.db'));
    try {
      db.exec('BEGIN IMMEDIATE');
      const raw = message('waits for the lock');
      let appended = false;
      const append = a.cmd(`APPEND INBOX {${raw.length}+}\r\n${raw}`).then((r) => {
        appended = true;
        return r;
      });
      // Give the APPEND time to reach the store (if it has not, this test cannot fail, never wrongly fails).
      await new Promise((r) => setTimeout(r, 300));
      const cap = await b.cmd('CAPABILITY');
      assert.equal(cap.status, 'OK');
      assert.equal(appended, false, 'the APPEND is still waiting for the lock while CAPABILITY was answered');
      db.exec('COMMIT');
      const r = await append;
      assert.equal(r.status, 'OK', r.text);
      assert.match(await b.ok('STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      a.close();
      b.close();
    }
  });
});
