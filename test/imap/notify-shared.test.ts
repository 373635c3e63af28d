// NOTIFY (RFC 5465) on mailboxes another user shares (RFC 4314), over real sockets: alice
// changes her Projects; bob, who may read it, is told through the filters that name it
// (MAILBOXES, SUBTREE, SUBSCRIBED, SELECTED) and never through PERSONAL or INBOXES, which are
// his own namespace. A mailbox he may not see stays silent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type RunningTestServer } from '../harness/server.js';
import type { Imap } from './client.js';
import { appendTo, login, startSharingServer } from './sharing.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const PROJECTS = `Other Users/${ALICE}/Projects`;

async function share(server: RunningTestServer, ...args: string[]): Promise<void> {
  const r = await runCli(['share', ...args], { dataDir: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
}

/** Nothing more arrives within `ms` (the read must time out). */
async function quiet(c: Imap, ms = 400): Promise<void> {
  const got = await c.t.readUntil('\r\n', ms).catch((e: Error) => e);
  assert.ok(got instanceof Error && /timeout/.test(got.message), `unexpected: ${String(got)}`);
}

describe('NOTIFY on shared mailboxes', () => {
  let server: RunningTestServer;
  let alice: Imap;

  before(async () => {
    server = await startSharingServer();
    alice = await login(server.ports.imap!, ALICE);
    for (const box of ['Projects', 'Projects/Q1', 'Private']) await alice.ok(`CREATE ${box}`);
    await appendTo(alice, 'Projects', 'plan one');
    await share(server, 'add', ALICE, 'Projects', BOB, 'lr');
    await share(server, 'add', ALICE, 'Projects/Q1', BOB, 'lr');
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  test('MAILBOXES naming a shared mailbox: STATUS at SET and on each change; MailboxName on rename; the unshared one stays silent', async () => {
    const bob = await login(server.ports.imap!, BOB);
    try {
      const set = await bob.ok(`NOTIFY SET STATUS (MAILBOXES ("${PROJECTS}" "Other Users/${ALICE}/Private") (MessageNew MessageExpunge MailboxName))`);
      assert.match(set, new RegExp(`^\\* STATUS "${PROJECTS}" \\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \\d+\\)\r$`, 'm'));
      assert.doesNotMatch(set, /Private/, 'a mailbox not shared with him does not exist for him');

      await appendTo(alice, 'Projects', 'plan two');
      assert.match(await bob.t.readLine(), new RegExp(`^\\* STATUS "${PROJECTS}" \\(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \\d+\\)\r\n$`));
      await appendTo(alice, 'Private', 'secret');
      await appendTo(alice, 'INBOX', 'hers');
      await quiet(bob);

      await alice.ok('SELECT Projects');
      await alice.ok('STORE 1 +FLAGS (\\Deleted)');
      await alice.ok('EXPUNGE');
      await alice.ok('UNSELECT');
      // the expunge moved the message to alice's Recently Deleted: nothing bob watches
      assert.match(await bob.t.readLine(), new RegExp(`^\\* STATUS "${PROJECTS}" \\(MESSAGES 1 UIDNEXT 3 UIDVALIDITY \\d+\\)\r\n$`));

      await alice.ok('RENAME Projects/Q1 Projects/Q2');
      await quiet(bob); // Q1 is not in his filter
      await alice.ok('RENAME Projects Plans');
      const renamed = `* LIST () "/" "Other Users/${ALICE}/Plans" ("OLDNAME" ("${PROJECTS}"))\r\n`;
      assert.equal(await bob.t.readLine(), renamed);
      await alice.ok('RENAME Plans Projects');
      assert.equal(await bob.t.readLine(), `* LIST () "/" "${PROJECTS}" ("OLDNAME" ("Other Users/${ALICE}/Plans"))\r\n`);
      await alice.ok('RENAME Projects/Q2 Projects/Q1');
      await quiet(bob);
      await appendTo(alice, 'Projects', 'plan three');
      assert.match(await bob.t.readLine(), new RegExp(`^\\* STATUS "${PROJECTS}" \\(MESSAGES 2 UIDNEXT 4 UIDVALIDITY \\d+\\)\r\n$`), 'watched again under its old name');
    } finally {
      bob.close();
    }
  });

  test('PERSONAL and INBOXES never take another user\'s mailbox; SUBTREE and SUBSCRIBED do', async () => {
    const bob = await login(server.ports.imap!, BOB);
    try {
      assert.doesNotMatch(await bob.ok('NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge)) (INBOXES (MessageNew MessageExpunge))'), /Other Users/);
      await appendTo(alice, 'Projects', 'not for personal');
      await quiet(bob);

      const set = await bob.ok(`NOTIFY SET STATUS (SUBTREE "${PROJECTS}" (MessageNew MessageExpunge))`);
      assert.match(set, new RegExp(`^\\* STATUS "${PROJECTS}" `, 'm'));
      assert.match(set, new RegExp(`^\\* STATUS "${PROJECTS}/Q1" `, 'm'));
      await appendTo(alice, 'Projects/Q1', 'in the subtree');
      assert.match(await bob.t.readLine(), new RegExp(`^\\* STATUS "${PROJECTS}/Q1" \\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \\d+\\)\r\n$`));

      await bob.ok('NOTIFY SET (SUBSCRIBED (MessageNew MessageExpunge SubscriptionChange))');
      await appendTo(alice, 'Projects', 'before subscribing');
      await quiet(bob);
      await bob.ok(`SUBSCRIBE "${PROJECTS}"`);
      assert.equal(await bob.t.readLine(), `* LIST (\\Subscribed) "/" "${PROJECTS}"\r\n`);
      await appendTo(alice, 'Projects', 'after subscribing');
      assert.match(await bob.t.readLine(), new RegExp(`^\\* STATUS "${PROJECTS}" \\(MESSAGES \\d+ UIDNEXT \\d+ UIDVALIDITY \\d+\\)\r\n$`));
      await bob.ok(`UNSUBSCRIBE "${PROJECTS}"`);
      assert.equal(await bob.t.readLine(), `* LIST () "/" "${PROJECTS}"\r\n`);
      await appendTo(alice, 'Projects', 'after unsubscribing');
      await quiet(bob);
    } finally {
      bob.close();
    }
  });

  test('SELECTED: the shared mailbox he selected tells EXISTS and FETCH, in IDLE too, and EXPUNGE', async () => {
    const bob = await login(server.ports.imap!, BOB);
    try {
      await bob.ok('ENABLE IMAP4rev2');
      const count = Number(/\* (\d+) EXISTS/.exec(await bob.ok(`SELECT "${PROJECTS}"`))![1]);
      await bob.ok('NOTIFY SET (SELECTED (MessageNew (UID) MessageExpunge FlagChange))');
      await appendTo(alice, 'Projects', 'selected one');
      const pushed = await bob.t.readUntil(/\* \d+ FETCH [^\r\n]*\r\n/);
      assert.match(pushed, new RegExp(`^\\* ${count + 1} EXISTS\r\n\\* ${count + 1} FETCH \\(UID \\d+\\)\r\n$`));

      const tag = bob.nextTag();
      bob.t.send(`${tag} IDLE\r\n`);
      assert.equal(await bob.t.readLine(), '+ idling\r\n');
      await appendTo(alice, 'Projects', 'selected two');
      assert.match(await bob.t.readUntil(/\* \d+ FETCH [^\r\n]*\r\n/), new RegExp(`^\\* ${count + 2} EXISTS\r\n\\* ${count + 2} FETCH \\(UID \\d+\\)\r\n$`));
      await alice.ok('SELECT Projects');
      await alice.ok(`STORE ${count + 2} +FLAGS (\\Deleted)`);
      await alice.ok('EXPUNGE');
      await alice.ok('UNSELECT');
      assert.match(await bob.t.readUntil(new RegExp(`\\* ${count + 2} EXPUNGE\r\n`)), new RegExp(`\\* ${count + 2} EXPUNGE\r\n$`));
      bob.t.send('DONE\r\n');
      assert.match(await bob.readTagged(tag).then((r) => r.text), new RegExp(`^${tag} OK `));
    } finally {
      bob.close();
    }
  });
});
