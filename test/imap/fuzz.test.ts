// Nothing a client sends can crash the server or corrupt a mailbox: random and mutated
// commands (fast-check) over real connections, then the mailbox must still read back intact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connect } from '../harness/transcript.js';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, message, PASS, startImapServer, USER } from './client.js';

const WORDS = ['FETCH', 'UID', 'STORE', 'SEARCH', 'LIST', 'SELECT', 'APPEND', 'COPY', 'MOVE', 'STATUS', 'EXPUNGE', 'IDLE', 'RENAME', 'CREATE', 'BODY[', 'BODY.PEEK[1.MIME]', '<0.5>', '(', ')', '"', '\\', '{3}', '{2+}', '~{1}', '*', '%', '1:*', '$', 'FLAGS', '+FLAGS.SILENT', '(\\Seen', 'INBOX', 'NIL', 'RETURN', 'CHARSET', 'OR', 'NOT', 'HEADER', ' ', '  ', '\u00e9', '\u0000', '\r', '9999999999999'];

const line = fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 6 })), { maxLength: 12 }).map((parts) => `f ${parts.join(' ')}`);

describe('IMAP fuzz', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
    await deliver(server, message('keep me'));
  });
  after(async () => {
    await server?.stop();
  });

  test('random commands in the selected state never crash the server or change the message', { timeout: 240_000 }, async () => {
    const inputs = fc.sample(fc.array(line, { minLength: 1, maxLength: 5 }), { numRuns: 120, seed: 42 });
    for (const lines of inputs) {
      const t = await connect(server.ports.imap!, { timeoutMs: 5000 });
      await t.readLine();
      t.send(`a LOGIN ${USER} ${PASS}\r\nb EXAMINE INBOX\r\n`);
      await t.readUntil(/b (OK|NO|BAD)[^\r]*\r\n/);
      t.send(lines.join('\r\n') + '\r\n');
      // whatever state the garbage left, a fresh command line must still be answered or the session ended
      t.send('\r\nzz NOOP\r\n');
      await t.readUntil(/zz (OK|NO|BAD)[^\r]*\r\n|\* BYE [^\r]*\r\n/, 5000).catch(() => undefined);
      t.close();
    }
    const c = await Imap.open(server.ports.imap!);
    await c.ok('EXAMINE INBOX');
    const r = await c.ok('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.match(r, /Subject: keep me/);
    c.close();
    // no internal error was logged: every input was a BAD/NO, never a SERVERBUG
    assert.deepEqual(server.stdout.filter((l) => l.level === 'error' || l.level === 'fatal'), []);
  });
});
