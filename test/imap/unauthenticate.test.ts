// UNAUTHENTICATE (RFC 8437): back to not-authenticated on the same connection. Raw
// transcripts for the state, capabilities and ENABLE reset; a password change after it
// must not end the session (its login was released); python imaplib logs in twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Imap, PASS, startImapServer, USER } from './client.js';
import { runCli, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
before(async () => {
  server = await startImapServer();
});
after(async () => {
  await server?.stop();
});

const PY = `
import imaplib, json, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
imaplib.Commands['UNAUTHENTICATE'] = ('AUTH', 'SELECTED')
c = imaplib.IMAP4('127.0.0.1', port)
out = {}
c.login(user, pw)
out['caps'] = c.capability()[1][0].decode().split()
c.select('INBOX')
typ, dat = c._simple_command('UNAUTHENTICATE')
out['unauth'] = typ
c.state = 'NONAUTH'
try:
    c.select('INBOX')
    out['select_after'] = 'OK'
except Exception as e:
    out['select_after'] = type(e).__name__
typ, dat = c.login(user, pw)
out['relogin'] = typ
typ, dat = c.select('INBOX')
out['select_again'] = typ
c.logout()
print(json.dumps(out))
`;

describe('UNAUTHENTICATE', { timeout: 60_000 }, () => {
  test('closes the mailbox, resets ENABLE, refuses authenticated commands; a new LOGIN works', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* UNAUTHENTICATE /m);
    assert.match(await c.ok('ENABLE QRESYNC'), /\* ENABLED QRESYNC/);
    await c.ok('SELECT INBOX');
    const r = await c.cmd('UNAUTHENTICATE');
    assert.equal(r.status, 'OK');
    assert.match(r.tagged, /^OK \[CAPABILITY IMAP4rev1 [^\]]*AUTH=PLAIN[^\]]*\] Not authenticated any more$/);
    assert.doesNotMatch(r.tagged, /UNAUTHENTICATE|NAMESPACE|COMPRESS/);
    assert.match((await c.cmd('SELECT INBOX')).tagged, /^BAD \[CLIENTBUG\] SELECT is not allowed before login/);
    assert.match((await c.cmd('FETCH 1 FLAGS')).tagged, /^BAD /);
    assert.match((await c.cmd('UNAUTHENTICATE')).tagged, /^BAD \[CLIENTBUG\] UNAUTHENTICATE is not allowed before login/);
    assert.doesNotMatch(await c.ok('CAPABILITY'), /UNAUTHENTICATE/);
    assert.match(await c.ok(`LOGIN ${USER} ${PASS}`), /UNAUTHENTICATE/);
    // ENABLE QRESYNC was forgotten with the login
    assert.match((await c.cmd('SELECT INBOX (QRESYNC (1 1))')).tagged, /^BAD .*without ENABLE QRESYNC/);
    await c.ok('SELECT INBOX');
    assert.equal((await c.cmd('UNAUTHENTICATE')).status, 'OK', 'from the selected state too');
    c.close();
  });

  test('a password change after UNAUTHENTICATE does not end the session; the new password logs in', async () => {
    const user = 'carol@example.test';
    assert.equal((await runCli(['user', 'add', user, '--password', 'old-pw'], { dataDir: server.dataDir })).code, 0);
    const c = await Imap.open(server.ports.imap!, { login: false });
    await c.ok(`LOGIN ${user} old-pw`);
    await c.ok('UNAUTHENTICATE');
    assert.equal((await runCli(['user', 'passwd', user, '--password', 'new-pw'], { dataDir: server.dataDir })).code, 0);
    await new Promise((r) => setTimeout(r, 1000)); // longer than the change poll: a live login would get BYE by now
    const noop = await c.cmd('NOOP');
    assert.equal(noop.status, 'OK');
    assert.doesNotMatch(noop.text, /BYE/);
    assert.match((await c.cmd(`LOGIN ${user} old-pw`)).tagged, /^NO \[AUTHENTICATIONFAILED\]/);
    await c.ok(`LOGIN ${user} new-pw`);
    // that login is live again: the next change ends the session
    assert.equal((await runCli(['user', 'passwd', user, '--password', 'newer-pw'], { dataDir: server.dataDir })).code, 0);
    assert.match(await c.t.readToEnd(10_000), /^\* BYE [^\r]*password changed/m);
  });

  test('python imaplib: UNAUTHENTICATE, then SELECT refused, LOGIN and SELECT again', async () => {
    const out = await new Promise<Record<string, unknown>>((resolve, reject) =>
      execFile('python3', ['-c', PY, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout) as Record<string, unknown>),
      ),
    );
    assert.ok((out.caps as string[]).includes('UNAUTHENTICATE'));
    assert.deepEqual(
      { unauth: out.unauth, select_after: out.select_after, relogin: out.relogin, select_again: out.select_again },
      { unauth: 'OK', select_after: 'error', relogin: 'OK', select_again: 'OK' },
    );
  });
});
