/**
 * Mailbox sharing over IMAP (RFC 4314 ACL, RFC 8440 LIST-MYRIGHTS, RFC 2342 namespaces), over
 * real sockets with raw transcripts: alice shares Projects with bob, who reads it under
 * "Other Users/" with his own \Seen; SETACL by a user holding `a`; the exact response syntax;
 * LIST RETURN (MYRIGHTS). The walk over every command against a hidden mailbox is in
 * acl-walk.test.ts, the third-party clients in test/imap-interop/acl-clients.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type RunningTestServer } from '../harness/server.js';
import { Imap } from './client.js';
import { appendTo, login, startSharingServer } from './sharing.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const CAROL = 'carol@example.test';
const SHARED = `"Other Users/${ALICE}/Projects"`;

async function share(server: RunningTestServer, ...args: string[]): Promise<string> {
  const r = await runCli(['share', ...args], { dataDir: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function unseen(statusText: string): number {
  return Number(/UNSEEN (\d+)/.exec(statusText)?.[1] ?? NaN);
}

describe('IMAP sharing (RFC 4314)', () => {
  let server: RunningTestServer;
  let port: number;
  let alice: Imap;

  before(async () => {
    server = await startSharingServer();
    port = server.ports.imap!;
    alice = await login(port, ALICE);
    await alice.ok('CREATE Projects');
    await alice.ok('CREATE Private');
    await appendTo(alice, 'Projects', 'plan one');
    await appendTo(alice, 'Projects', 'plan two');
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  test('alice shares Projects with bob (lr): he sees it under Other Users, reads it, cannot change it; his reading is not hers', async () => {
    assert.match(await share(server, 'add', ALICE, 'Projects', BOB, 'lr'), /Projects: bob@example\.test lr/);
    assert.match(await share(server, 'list', ALICE), /^Projects\tbob@example\.test\tlr$/m);
    const bob = await login(port, BOB);
    try {
      assert.match(await bob.ok('NAMESPACE'), /^\* NAMESPACE \(\("" "\/"\)\) \(\("Other Users\/" "\/"\)\) \(\("Shared\/" "\/"\)\)\r\n/);
      const list = await bob.ok('LIST "" "*"');
      assert.match(list, /^\* LIST \(\\HasNoChildren\) "\/" "Other Users\/alice@example\.test\/Projects"\r\n/m);
      assert.doesNotMatch(list, /Private/, 'a mailbox not shared stays invisible');
      assert.match(await bob.ok('LIST "" "Other Users/%"'), /^\* LIST \(\\Noselect \\HasChildren\) "\/" "Other Users\/alice@example\.test"\r\n/m);
      const sel = await bob.ok(`SELECT ${SHARED}`);
      assert.match(sel, /\* 2 EXISTS\r\n/);
      assert.match(sel, /OK \[READ-ONLY\] SELECT completed/, 'without s w t e the mailbox is read-only');
      assert.match(await bob.ok('FETCH 1 (BODY[TEXT])'), /body of plan one/);
      assert.match((await bob.cmd('STORE 1 +FLAGS (\\Flagged)')).tagged, /^NO /);
      assert.match((await bob.cmd('EXPUNGE')).tagged, /^NO /);
      assert.match((await bob.cmd(`APPEND ${SHARED} {3+}\r\nx\r\n`)).tagged, /^NO \[NOPERM\]/);
      assert.equal(unseen(await alice.ok('STATUS Projects (UNSEEN)')), 2, "bob's reading did not mark it \\Seen for alice");
    } finally {
      bob.close();
    }
  });

  test('ESEARCH (MULTISEARCH) reaches a shared mailbox he may read, by name and when selected; the rest stays out', async () => {
    const bob = await login(port, BOB);
    try {
      const uidValidity = /UIDVALIDITY (\d+)/.exec(await bob.ok(`STATUS ${SHARED} (UIDVALIDITY)`))![1];
      const line = new RegExp(`^\\* ESEARCH \\(TAG "t\\d+" MAILBOX "Other Users/alice@example\\.test/Projects" UIDVALIDITY ${uidValidity}\\) UID COUNT 2\r$`, 'm');
      const byName = await bob.cmd(`ESEARCH IN (mailboxes (${SHARED} "Other Users/${ALICE}/Private")) RETURN (COUNT) TEXT plan`);
      assert.equal(byName.status, 'OK', byName.text);
      assert.equal(byName.text.split('\r\n').filter((l) => l.startsWith('* ESEARCH')).length, 1, byName.text);
      assert.match(byName.text, line);
      await bob.ok(`EXAMINE ${SHARED}`);
      assert.match(await bob.ok('ESEARCH IN (selected) RETURN (COUNT) TEXT plan'), line);
    } finally {
      bob.close();
    }
  });

  test('\\Seen in a shared mailbox is per user, both ways', async () => {
    await share(server, 'add', ALICE, 'Projects', BOB, '+s');
    const bob = await login(port, BOB);
    try {
      await bob.ok('ENABLE IMAP4rev2'); // no \Recent in the FLAGS below
      const sel = await bob.ok(`SELECT ${SHARED}`);
      assert.match(sel, /OK \[READ-WRITE\]/);
      assert.match(await bob.ok('FETCH 1 (BODY[TEXT])'), /FLAGS \(\\Seen\)/, 'his reading sets his \\Seen');
      assert.match((await bob.cmd('STORE 2 +FLAGS (\\Flagged)')).tagged, /^NO \[NOPERM\]/, 'w is not granted');
      assert.equal(unseen(await alice.ok('STATUS Projects (UNSEEN)')), 2, 'alice still has both unread');
      await alice.ok('SELECT Projects');
      await alice.ok('STORE 2 +FLAGS (\\Seen)');
      await alice.ok('UNSELECT');
      assert.equal(unseen(await bob.ok(`STATUS ${SHARED} (UNSEEN)`)), 1, "alice's reading of 2 is not his");
      assert.match(await bob.ok('FETCH 1:2 (FLAGS)'), /\* 1 FETCH \(FLAGS \(\\Seen\)\)\r\n\* 2 FETCH \(FLAGS \(\)\)/);
    } finally {
      bob.close();
    }
  });

  test('GETACL, MYRIGHTS, LISTRIGHTS, DELETEACL: exact syntax (RFC 4314 3.6-3.8)', async () => {
    await alice.ok(`SETACL Projects ${BOB} lr`);
    const exact = async (command: string, want: string) => {
      const r = await alice.cmd(command);
      const tag = /(t\d+) OK/.exec(r.text)?.[1];
      assert.equal(r.text, `${want}${tag} OK ${command.split(' ')[0]} completed\r\n`, command);
    };
    await exact('GETACL Projects', '* ACL "Projects" alice@example.test lrswipkxteancd bob@example.test lr\r\n');
    await exact('MYRIGHTS Projects', '* MYRIGHTS "Projects" lrswipkxteancd\r\n');
    await exact(`LISTRIGHTS Projects ${BOB}`, '* LISTRIGHTS "Projects" bob@example.test "" l r s w i p k x t e a n\r\n');
    await exact(`LISTRIGHTS Projects ${ALICE}`, '* LISTRIGHTS "Projects" alice@example.test lrswipkxteancd\r\n');
    await exact('SETACL Projects anyone +l', '');
    await exact('GETACL Projects', '* ACL "Projects" alice@example.test lrswipkxteancd anyone l bob@example.test lr\r\n');
    await exact('DELETEACL Projects anyone', '');
    await exact('GETACL Projects', '* ACL "Projects" alice@example.test lrswipkxteancd bob@example.test lr\r\n');
  });

  test('SETACL by a user holding a; refused without it; bad rights are BAD; negative rights NO', async () => {
    await alice.ok(`SETACL Projects ${CAROL} lra`);
    const carol = await login(port, CAROL);
    const bob = await login(port, BOB);
    try {
      assert.match((await bob.cmd(`SETACL ${SHARED} ${CAROL} +w`)).tagged, /^NO \[NOPERM\]/, 'bob lacks a');
      await carol.ok(`SETACL ${SHARED} ${BOB} +w`);
      assert.match(await bob.ok(`MYRIGHTS ${SHARED}`), /^\* MYRIGHTS "Other Users\/alice@example\.test\/Projects" lrw\r\n/);
      await carol.ok(`SETACL ${SHARED} ${BOB} -w`);
      assert.match(await carol.ok(`GETACL ${SHARED}`), /^\* ACL "Other Users\/alice@example\.test\/Projects" alice@example\.test lrswipkxteancd bob@example\.test lr carol@example\.test lra\r\n/);
      assert.match((await carol.cmd(`SETACL ${SHARED} ${ALICE} l`)).tagged, /^NO \[CANNOT\]/, "the owner's rights cannot change");
      assert.match((await alice.cmd(`SETACL Projects ${BOB} lrz`)).tagged, /^BAD /, 'RFC 4314 3.1: an unknown right is BAD');
      assert.match((await alice.cmd(`SETACL Projects -${BOB} w`)).tagged, /^NO \[CANNOT\] Negative rights are not supported/);
      assert.match((await alice.cmd('SETACL Projects nobody@example.test lr')).tagged, /^NO \[NONEXISTENT\]/);
      await alice.ok(`SETACL Projects ${CAROL} lrd`); // RFC 4314 2.1.1: d is t and e
      assert.match(await carol.ok(`MYRIGHTS ${SHARED}`), /^\* MYRIGHTS "Other Users\/alice@example\.test\/Projects" lrted\r\n/);
    } finally {
      carol.close();
      bob.close();
      await alice.ok(`DELETEACL Projects ${CAROL}`);
      await alice.ok(`SETACL Projects ${BOB} lrs`);
    }
  });

  test("IDLE in a shared mailbox hears the owner's APPEND; share del takes the mailbox away", async () => {
    const bob = await login(port, BOB);
    try {
      await bob.ok(`EXAMINE ${SHARED}`);
      bob.t.send('idl IDLE\r\n');
      await bob.t.readUntil(/\+ [^\r\n]*\r\n/);
      await appendTo(alice, 'Projects', 'plan three');
      assert.match(await bob.t.readUntil(/\* \d+ EXISTS\r\n/), /\* 3 EXISTS/, "the owner's change rings on the grantee's IDLE");
      bob.t.send('DONE\r\n');
      assert.equal((await bob.readTagged('idl')).status, 'OK');
      assert.match(await share(server, 'del', ALICE, 'Projects', BOB), /no longer shared with bob@example\.test/);
      assert.match((await bob.cmd(`STATUS ${SHARED} (MESSAGES)`)).tagged, /^NO \[NONEXISTENT\]/);
      assert.doesNotMatch(await bob.ok('LIST "" "*"'), /Projects/);
      const r = await runCli(['share', 'del', ALICE, 'Projects', BOB], { dataDir: server.dataDir });
      assert.notEqual(r.code, 0, 'nothing left to delete');
      assert.match(r.stderr, /not shared with/);
    } finally {
      bob.close();
      await share(server, 'add', ALICE, 'Projects', BOB, 'lrs');
    }
  });

  test('LIST RETURN (MYRIGHTS) and a mailbox shared with anyone under Shared/', async () => {
    await alice.ok('CREATE Notices');
    await alice.ok('SETACL Notices anyone lr');
    const carol = await login(port, CAROL);
    try {
      const r = await carol.ok('LIST "" "*" RETURN (MYRIGHTS)');
      assert.match(r, /^\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\n\* MYRIGHTS "INBOX" lrswipkxteancd\r\n/m);
      assert.match(r, /^\* LIST \(\\HasNoChildren\) "\/" "Shared\/alice@example\.test\/Notices"\r\n\* MYRIGHTS "Shared\/alice@example\.test\/Notices" lr\r\n/m);
      assert.doesNotMatch(r, /Projects/, 'not shared with carol');
      assert.match(await carol.ok('EXAMINE "Shared/alice@example.test/Notices"'), /\* 0 EXISTS/);
    } finally {
      carol.close();
    }
  });

  test('COPY out of a shared mailbox carries his read state, not the owner\'s', async () => {
    const bob = await login(port, BOB);
    try {
      await bob.ok('ENABLE IMAP4rev2');
      await bob.ok(`EXAMINE ${SHARED}`);
      assert.match(await bob.ok('FETCH 1:3 (FLAGS)'), /\* 1 FETCH \(FLAGS \(\\Seen\)\)\r\n\* 2 FETCH \(FLAGS \(\)\)\r\n\* 3 FETCH \(FLAGS \(\)\)/);
      await bob.ok('COPY 1:3 INBOX');
      await bob.ok('SELECT INBOX');
      assert.match(await bob.ok('FETCH 1:3 (FLAGS)'), /\* 1 FETCH \(FLAGS \(\\Seen\)\)\r\n\* 2 FETCH \(FLAGS \(\)\)\r\n\* 3 FETCH \(FLAGS \(\)\)/, 'alice had read 2; he had not');
    } finally {
      bob.close();
    }
  });

  test('METADATA on a shared mailbox: the owner\'s /shared entries, his own /private ones, /shared writes need n', async () => {
    await alice.ok(`SETACL Projects ${BOB} lrs`);
    await alice.ok('SETMETADATA Projects (/shared/comment "team plans")');
    const bob = await login(port, BOB);
    try {
      assert.match(await bob.ok(`GETMETADATA ${SHARED} /shared/comment`), /\* METADATA "Other Users\/alice@example\.test\/Projects" \(\/shared\/comment "team plans"\)/);
      assert.match((await bob.cmd(`SETMETADATA ${SHARED} (/shared/comment "mine now")`)).tagged, /^NO \[NOPERM\]/);
      await bob.ok(`SETMETADATA ${SHARED} (/private/comment "bob's note")`);
      assert.match(await alice.ok('GETMETADATA Projects /private/comment'), /\(\/private\/comment NIL\)/, "his /private entry is not hers");
      await alice.ok(`SETACL Projects ${BOB} +n`);
      await bob.ok(`SETMETADATA ${SHARED} (/shared/comment "edited by bob")`);
      assert.match(await alice.ok('GETMETADATA Projects /shared/comment'), /edited by bob/);
    } finally {
      bob.close();
      await alice.ok(`SETACL Projects ${BOB} -n`);
    }
  });

  test('CREATE with k on the parent, RENAME and DELETE with x; the entries follow a rename', async () => {
    await alice.ok(`SETACL Projects ${BOB} lrk`);
    const bob = await login(port, BOB);
    const sub = `"Other Users/${ALICE}/Projects/Sub"`;
    try {
      assert.match(await bob.ok(`CREATE ${sub}`), /OK \[MAILBOXID \(F\d+-\d+\)\]/);
      assert.match(await alice.ok('LIST "" "Projects/*"'), /"Projects\/Sub"/, "it is alice's mailbox");
      assert.match((await bob.cmd(`MYRIGHTS ${sub}`)).tagged, /^NO \[NONEXISTENT\]/, 'rights are not inherited');
      await alice.ok(`SETACL Projects/Sub ${BOB} lrx`);
      assert.match((await bob.cmd(`RENAME ${sub} "Stolen"`)).tagged, /^NO /, 'not out of her account');
      await bob.ok(`RENAME ${sub} "Other Users/${ALICE}/Projects/Sub2"`);
      assert.match(await alice.ok('GETACL Projects/Sub2'), /bob@example\.test lrx/);
      assert.match((await bob.cmd(`DELETE "Other Users/${ALICE}/Projects"`)).tagged, /^NO \[NOPERM\]/, 'no x on Projects');
      await bob.ok(`DELETE "Other Users/${ALICE}/Projects/Sub2"`);
      assert.doesNotMatch(await alice.ok('LIST "" "Projects/*"'), /Sub/);
    } finally {
      bob.close();
      await alice.ok(`SETACL Projects ${BOB} lrs`);
    }
  });

  test('the namespace levels are no names to create: NO [CANNOT] that says why', async () => {
    const bob = await login(port, BOB);
    try {
      for (const name of ['Shared', '"Other Users"', `"Other Users/${ALICE}"`, `"Shared/${ALICE}"`]) {
        assert.match((await bob.cmd(`CREATE ${name}`)).tagged, /^NO \[CANNOT\] .*shared namespaces/, name);
      }
    } finally {
      bob.close();
    }
  });
});
