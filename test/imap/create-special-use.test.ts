// CREATE-SPECIAL-USE (RFC 6154 3) over raw transcripts and python imaplib: the attribute
// shows in LIST, unsupported or taken ones are NO [USEATTR] and create nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, PASS, startImapServer, USER } from './client.js';

describe('IMAP CREATE-SPECIAL-USE', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('advertised; CREATE (USE (\\Archive)) shows in LIST; parents are created plain', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* SPECIAL-USE CREATE-SPECIAL-USE /m);
    await c.ok('DELETE Archive'); // a new user has one; each special use is held by one mailbox at most
    assert.match(await c.ok('CREATE Old/Stuff (USE (\\archive))'), /^t\d+ OK \[MAILBOXID \(/m);
    const list = await c.ok('LIST "" "Old*"');
    assert.match(list, /^\* LIST \(\\HasChildren\) "\/" "Old"\r\n\* LIST \(\\HasNoChildren \\Archive\) "\/" "Old\/Stuff"\r\n/m);
    await c.ok('CREATE Plain (USE ())');
    assert.match(await c.ok('LIST "" Plain'), /^\* LIST \(\\HasNoChildren\) "\/" "Plain"\r\n/m);
  });

  test('unsupported, several or already used special uses are NO [USEATTR] and create nothing', async () => {
    const cases: [string, RegExp][] = [
      ['CREATE Everything (USE (\\All))', /not supported/],
      ['CREATE Starred (USE (\\Flagged))', /not supported/],
      ['CREATE Imp (USE (\\Important))', /not supported/],
      ['CREATE Two (USE (\\Junk \\Trash))', /Only one/],
      ['CREATE Sent2 (USE (\\Sent))', /already the special use of Sent/],
      ['CREATE Deep/Box (USE (\\All))', /not supported/],
    ];
    for (const [cmd, text] of cases) {
      const r = await c.cmd(cmd);
      assert.match(r.tagged, /^NO \[USEATTR\] /, cmd);
      assert.match(r.tagged, text, cmd);
    }
    const list = await c.ok('LIST "" "*"');
    for (const name of ['Everything', 'Starred', 'Imp', 'Two', 'Sent2', 'Deep']) assert.doesNotMatch(list, new RegExp(`"${name}"`), name);
    assert.equal((await c.cmd('CREATE Bad (FOO)')).status, 'BAD');
    assert.equal((await c.cmd('CREATE Bad (USE \\Sent)')).status, 'BAD');
  });

  test('python imaplib: CREATE with USE, then LIST (SPECIAL-USE)', async () => {
    const py = [
      'import imaplib, sys',
      'M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
      'M.login(sys.argv[2], sys.argv[3])',
      'M.delete("Trash")',
      'print(M.create("Bin (USE (\\\\Trash))")[0])',
      'print(M._simple_command("LIST", "(SPECIAL-USE)", \'""\', "*")[0])',
      'print(b"\\n".join(M._untagged_response("OK", [None], "LIST")[1]).decode())',
      'M.logout()',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', py, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'OK');
    assert.equal(lines[1], 'OK');
    assert.ok(lines.includes('(\\HasNoChildren \\Trash) "/" "Bin"'), out);
  });
});
