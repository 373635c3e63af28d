// UTF8=ACCEPT (RFC 6855) over raw transcripts and python imaplib: ENABLE, UTF-8 mailbox names
// (modified UTF-7 before), APPEND ... UTF8 (~{n}) and UTF-8 headers returned as stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, PASS, startImapServer, USER } from './client.js';

const MSG = Buffer.from(`From: Jürgen <j@example.test>\r\nTo: ${USER}\r\nSubject: Grüße aus Köln\r\n\r\nHallo\r\n`);

describe('IMAP UTF8=ACCEPT', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('before ENABLE: modified UTF-7 names, APPEND UTF8 refused', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* UTF8=ACCEPT /m);
    await c.ok('CREATE "Gr&APYA3w-e"');
    assert.match(await c.ok('LIST "" "Gr*"'), /^\* LIST \([^)]*\) "\/" "Gr&APYA3w-e"\r\n/m);
    assert.equal((await c.cmd(`APPEND INBOX UTF8 (~{${MSG.length}+}\r\n${MSG.toString('latin1')})`)).status, 'BAD');
    c.close();
  });

  test('after ENABLE UTF8=ACCEPT: UTF-8 names both ways, APPEND UTF8 (literal8), raw UTF-8 headers', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.match(await c.ok('ENABLE UTF8=ACCEPT'), /^\* ENABLED UTF8=ACCEPT\r\n/m);
    assert.match(await c.ok('ENABLE UTF8=ACCEPT'), /^\* ENABLED\r\n/m, 'only once');
    assert.match(await c.ok('LIST "" "Gr*"'), /^\* LIST \([^)]*\) "\/" "Größe"\r\n/m, 'the mailbox made with a modified UTF-7 name');
    await c.ok('CREATE "Ärger"');
    assert.match(await c.ok('STATUS "Ärger" (MESSAGES)'), /^\* STATUS "Ärger" \(MESSAGES 0\)\r\n/m);
    const head = Buffer.from(`t900 APPEND "Ärger" UTF8 (~{${MSG.length}+}\r\n`);
    c.t.send(Buffer.concat([head, MSG, Buffer.from(')\r\n')]));
    assert.match((await c.readTagged('t900')).tagged, /^OK \[APPENDUID /);
    await c.ok('SELECT "Ärger"');
    const f = await c.ok('FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
    assert.ok(Buffer.from(f, 'latin1').includes(Buffer.from('Subject: Grüße aus Köln')) || f.includes('Subject: Grüße aus Köln'), f);
    assert.equal((await c.cmd(`APPEND INBOX UTF8 ({${MSG.length}+}\r\n${MSG.toString('latin1')})`)).status, 'BAD', 'UTF8 takes literal8 only');
    assert.equal((await c.cmd(`APPEND INBOX UTF8 ~{${MSG.length}+}\r\n${MSG.toString('latin1')}`)).status, 'BAD', 'parentheses required');
    c.close();
  });

  test('python imaplib: enable(UTF8=ACCEPT) switches it to UTF-8 names', async () => {
    const py = [
      'import imaplib, sys',
      'M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); M.login(sys.argv[2], sys.argv[3])',
      'print(M.enable("UTF8=ACCEPT")[0], M.utf8_enabled)',
      'print(M.create(\'"Café"\')[0])',
      'typ, dat = M.list(\'""\', \'"Caf*"\')',
      'print(dat[0].decode("utf-8"))',
      'print(M.select(\'"Café"\')[0])',
      'M.logout()',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', py, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    assert.deepEqual(out.trim().split('\n'), ['OK True', 'OK', '(\\HasNoChildren) "/" "Café"', 'OK']);
  });
});
