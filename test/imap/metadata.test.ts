// METADATA, METADATA-SERVER (RFC 5464) and LIST-METADATA (RFC 9590) over raw transcripts:
// exact response bytes, MAXSIZE/DEPTH, the limits' response codes, private entries per
// member, and entries kept by RENAME and dropped by DELETE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { runCli } from '../harness/server.js';
import { Imap, startImapServer, USER } from './client.js';

describe('IMAP METADATA (raw transcripts)', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer({
      MAILROOM_IMAP_METADATA_MAX_SIZE: '100',
      MAILROOM_IMAP_METADATA_MAX_ENTRIES: '4',
      MAILROOM_IMAP_METADATA_ADMIN: 'mailto:postmaster@example.test',
    });
    c = await Imap.open(server.ports.imap!);
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('advertised after login, not before', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* METADATA METADATA-SERVER LIST-METADATA /m);
    const anon = await Imap.open(server.ports.imap!, { login: false });
    assert.doesNotMatch(await anon.ok('CAPABILITY'), /METADATA/);
    assert.equal((await anon.cmd('GETMETADATA "" /shared/comment')).status, 'BAD');
    anon.close();
  });

  test('SETMETADATA then GETMETADATA on a mailbox: exact lines, NIL for unset, names case-insensitive', async () => {
    await c.ok('CREATE Notes');
    await c.ok('SETMETADATA Notes (/private/comment "my notes" /Shared/Comment {5+}\r\nhe"l\\)');
    const r = await c.ok('GETMETADATA Notes (/private/comment /shared/comment /shared/vendor/x)');
    assert.match(r, /^\* METADATA "Notes" \(\/private\/comment "my notes" \/shared\/comment "he\\"l\\\\" \/shared\/vendor\/x NIL\)\r\n/m);
    assert.match(await c.ok('GETMETADATA Notes /PRIVATE/COMMENT'), /^\* METADATA "Notes" \(\/private\/comment "my notes"\)\r\n/m);
    await c.ok('SETMETADATA inbox (/private/comment "in")');
    assert.match(await c.ok('GETMETADATA INBOX /private/comment'), /^\* METADATA "INBOX" \(\/private\/comment "in"\)\r\n/m, 'INBOX in any case');
    await c.ok('SETMETADATA INBOX (/private/comment NIL)');
    await c.ok('SETMETADATA Notes (/private/comment NIL)');
    assert.match(await c.ok('GETMETADATA Notes /private/comment'), /^\* METADATA "Notes" \(\/private\/comment NIL\)\r\n/m);
  });

  test('values with CR/LF come back as a literal, with NUL as literal8', async () => {
    await c.ok('SETMETADATA INBOX (/private/vendor/a {4+}\r\na\r\nb /private/vendor/b ~{3+}\r\nx\x00y)');
    const r = await c.ok('GETMETADATA INBOX (/private/vendor/a /private/vendor/b)');
    assert.ok(r.includes('* METADATA "INBOX" (/private/vendor/a {4}\r\na\r\nb /private/vendor/b ~{3}\r\nx\x00y)\r\n'), JSON.stringify(r));
    await c.ok('SETMETADATA INBOX (/private/vendor/a NIL /private/vendor/b NIL)');
  });

  test('DEPTH and MAXSIZE with LONGENTRIES', async () => {
    await c.ok('CREATE Deep');
    await c.ok(`SETMETADATA Deep (/shared/a "1" /shared/a/b "22" /shared/a/b/c "${'x'.repeat(50)}")`);
    assert.match(await c.ok('GETMETADATA (DEPTH 1) Deep /shared/a'), /^\* METADATA "Deep" \(\/shared\/a "1" \/shared\/a\/b "22"\)\r\n/m);
    const all = await c.cmd('GETMETADATA (MAXSIZE 10 DEPTH infinity) Deep /shared');
    assert.match(all.text, /^\* METADATA "Deep" \(\/shared\/a "1" \/shared\/a\/b "22"\)\r\n/m);
    assert.match(all.tagged, /^OK \[METADATA LONGENTRIES 50\]/);
    const none = await c.cmd('GETMETADATA (DEPTH infinity) Deep /private');
    assert.equal(none.status, 'OK');
    assert.doesNotMatch(none.text, /\* METADATA/, 'nothing under /private: no METADATA response');
  });

  test('limits: MAXSIZE and TOOMANY refuse the whole command', async () => {
    await c.ok('CREATE Full');
    const big = await c.cmd(`SETMETADATA Full (/shared/ok "1" /shared/big "${'x'.repeat(101)}")`);
    assert.match(big.tagged, /^NO \[METADATA MAXSIZE 100\]/);
    const huge = await c.cmd(`SETMETADATA Full (/shared/big {70000+}\r\n${'y'.repeat(70000)})`);
    assert.match(huge.tagged, /^NO \[METADATA MAXSIZE 100\]/, 'a spooled literal is over the limit too');
    await c.ok('SETMETADATA Full (/shared/e1 "1" /shared/e2 "2" /private/e3 "3")');
    const many = await c.cmd('SETMETADATA Full (/shared/e4 "4" /private/e5 "5")');
    assert.match(many.tagged, /^NO \[METADATA TOOMANY\]/);
    assert.match(await c.ok('GETMETADATA Full (/shared/ok /shared/e4)'), /^\* METADATA "Full" \(\/shared\/e4 NIL \/shared\/ok NIL\)\r\n/m);
    await c.ok('SETMETADATA Full (/shared/e1 NIL /shared/e4 "4" /private/e5 "5")');
  });

  test('bad entry names and syntax are BAD; an unknown mailbox is NO [NONEXISTENT]', async () => {
    for (const bad of [
      'SETMETADATA INBOX (/shared "x")',
      'SETMETADATA INBOX (/other/x "x")',
      'SETMETADATA INBOX (/shared//x "x")',
      'SETMETADATA INBOX (/shared/x/ "x")',
      'SETMETADATA INBOX (/shared/x* "x")',
      'SETMETADATA INBOX (/shared/x)',
      'SETMETADATA INBOX (/shared/x FOO)',
      'GETMETADATA INBOX',
      'GETMETADATA (DEPTH 2) INBOX /shared',
      'GETMETADATA (MAXSIZE 1 MAXSIZE 2) INBOX /shared',
      'GETMETADATA (FOO 1) INBOX /shared',
    ]) assert.equal((await c.cmd(bad)).status, 'BAD', bad);
    assert.match((await c.cmd('GETMETADATA Nowhere /shared/comment')).tagged, /^NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('SETMETADATA Nowhere (/shared/comment "x")')).tagged, /^NO \[NONEXISTENT\]/);
  });

  test('server entries (METADATA-SERVER): /shared/admin from the configuration, read-only', async () => {
    await c.ok('SETMETADATA "" (/shared/comment "hello" /private/vendor/theme "dark")');
    assert.match(
      await c.ok('GETMETADATA (DEPTH infinity) "" (/shared /private)'),
      /^\* METADATA "" \(\/private\/vendor\/theme "dark" \/shared\/admin "mailto:postmaster@example.test" \/shared\/comment "hello"\)\r\n/m,
    );
    assert.match((await c.cmd('SETMETADATA "" (/shared/admin "x")')).tagged, /^NO \[NOPERM\]/);
    assert.doesNotMatch(await c.ok('GETMETADATA INBOX /shared/admin'), /postmaster/, 'only on the server');
  });

  test('entries stay with RENAME and go with DELETE', async () => {
    await c.ok('CREATE Old');
    await c.ok('SETMETADATA Old (/shared/comment "kept")');
    await c.ok('RENAME Old New');
    assert.match(await c.ok('GETMETADATA New /shared/comment'), /^\* METADATA "New" \(\/shared\/comment "kept"\)\r\n/m);
    await c.ok('DELETE New');
    await c.ok('CREATE New');
    assert.match(await c.ok('GETMETADATA New /shared/comment'), /^\* METADATA "New" \(\/shared\/comment NIL\)\r\n/m);
  });

  test('LIST RETURN (METADATA (...)): a METADATA response after each mailbox, MAXSIZE with LONGENTRIES', async () => {
    await c.ok('CREATE Colours');
    await c.ok('SETMETADATA Colours (/private/vendor/colour "red" /shared/comment "a long comment")');
    const r = await c.cmd('LIST "" "Colours" RETURN (METADATA (/private/vendor/colour /shared/comment))');
    assert.equal(r.status, 'OK');
    assert.match(r.text, /^\* LIST \(\\HasNoChildren\) "\/" "Colours"\r\n\* METADATA "Colours" \(\/private\/vendor\/colour "red" \/shared\/comment "a long comment"\)\r\n/m);
    const short = await c.cmd('LIST "" "Colours" RETURN (METADATA (MAXSIZE 5 /private/vendor/colour /shared/comment))');
    assert.match(short.text, /^\* METADATA "Colours" \(\/private\/vendor\/colour "red"\)\r\n/m);
    assert.match(short.tagged, /^OK \[METADATA LONGENTRIES 14\]/);
    const both = await c.ok('LIST "" "*" RETURN (SUBSCRIBED METADATA (/shared/comment))');
    assert.match(both, /^\* LIST \([^)]*\) "\/" "INBOX"\r\n\* METADATA "INBOX" \(\/shared\/comment NIL\)\r\n/m);
    assert.equal((await c.cmd('LIST "" "*" RETURN (METADATA ())')).status, 'BAD');
    assert.equal((await c.cmd('LIST "" "*" RETURN (METADATA (/shared))')).status, 'BAD');
  });

  test('/private entries are per member; /shared ones are the account\'s', async () => {
    const dataDir = server.dataDir;
    for (const args of [['member', 'add', USER, 'bob']]) assert.equal((await runCli(args, { dataDir })).code, 0);
    const out = await runCli(['device', 'add', USER, '--member', 'bob', '--name', 'phone'], { dataDir });
    assert.equal(out.code, 0, out.stderr);
    const password = out.stdout.trimEnd().split('\n').pop()!;
    await c.ok('CREATE Family');
    await c.ok('SETMETADATA Family (/private/vendor/colour "owner-red" /shared/comment "ours")');
    const bob = await Imap.open(server.ports.imap!, { login: false });
    await bob.ok(`LOGIN ${USER} ${password}`);
    assert.match(await bob.ok('GETMETADATA Family (/private/vendor/colour /shared/comment)'), /^\* METADATA "Family" \(\/private\/vendor\/colour NIL \/shared\/comment "ours"\)\r\n/m);
    await bob.ok('SETMETADATA Family (/private/vendor/colour "bob-blue")');
    assert.match(await c.ok('GETMETADATA Family /private/vendor/colour'), /\/private\/vendor\/colour "owner-red"/);
    assert.match(await bob.ok('GETMETADATA Family /private/vendor/colour'), /\/private\/vendor\/colour "bob-blue"/);
    bob.close();
  });
});
