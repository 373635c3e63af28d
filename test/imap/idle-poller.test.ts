// IDLE learns of another process's commit through the ONE change poller of the server process
// (store/worker/poller.ts), not through a timer of its own: the per-session safety net is set to
// an hour here, so an EXISTS that arrives at all came by the bus. Both ways of hosting SQLite.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, message, startImapServer } from './client.js';

for (const [name, env] of [
  ['store in a worker thread', {}],
  ['store in process', { MAILROOM_DATABASE_SQLITE_WORKER: 'false' }],
] as const) {
  describe(`IDLE and the change poller (${name})`, () => {
    let server: RunningTestServer;
    after(async () => {
      await server?.stop();
    });

    test('three IDLE sessions each get EXISTS for a `mailroom deliver` by another process; the untouched mailbox gets nothing', async () => {
      server = await startImapServer({ ...env, MAILROOM_IMAP_IDLE_POLL_MS: '3600000', MAILROOM_DATABASE_CHANGE_POLL_MS: '50' });
      const setup = await Imap.open(server.ports.imap!);
      await setup.ok('CREATE Quiet');
      setup.close();
      const sessions = await Promise.all([0, 1, 2].map(() => Imap.open(server.ports.imap!)));
      const quiet = await Imap.open(server.ports.imap!);
      const tags: string[] = [];
      for (const s of sessions) {
        assert.match(await s.ok('SELECT INBOX'), /\* 0 EXISTS\r\n/);
        tags.push(s.nextTag());
        s.t.send(`${tags.at(-1)} IDLE\r\n`);
        assert.equal(await s.t.readLine(), '+ idling\r\n');
      }
      await quiet.ok('SELECT Quiet');
      const quietTag = quiet.nextTag();
      quiet.t.send(`${quietTag} IDLE\r\n`);
      assert.equal(await quiet.t.readLine(), '+ idling\r\n');

      await deliver(server, message('from another process'));
      for (const s of sessions) assert.equal(await s.t.readUntil(/\* \d+ EXISTS\r\n/), '* 1 EXISTS\r\n');
      await deliver(server, message('second'));
      for (const s of sessions) assert.match(await s.t.readUntil(/\* \d+ EXISTS\r\n/), /\* 2 EXISTS\r\n$/);

      for (const [i, s] of sessions.entries()) {
        s.t.send('DONE\r\n');
        assert.equal((await s.readTagged(tags[i])).status, 'OK');
        s.close();
      }
      quiet.t.send('DONE\r\n');
      const q = await quiet.readTagged(quietTag);
      assert.equal(q.status, 'OK');
      assert.doesNotMatch(q.text, /EXISTS|EXPUNGE|FETCH/, 'a recheck of an unchanged mailbox announces nothing');
      quiet.close();
    });
  });
}
