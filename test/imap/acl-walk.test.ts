/**
 * The ACL walk (RFC 4314 4): every command of the IMAP command table, run by bob against
 * alice's mailbox Secret, on which he holds no right. Each answers NO (or BAD), exactly as it
 * answers for a name that does not exist (so nothing tells him Secret exists), and alice's
 * mailbox is unchanged afterwards. The table is checked against the command dispatcher
 * (src/imap/commands/index.ts): a new command without a row here fails this test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import '../../src/imap/session.js'; // first: the command table and the session import each other, the session is the entry
import { COMMANDS } from '../../src/imap/commands/index.js';
import { Imap } from './client.js';
import { appendTo, login, startSharingServer } from './sharing.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const SECRET = `Other Users/${ALICE}/Secret`;
const GHOST = `Other Users/${ALICE}/NoSuchBox`;

/**
 * How one command is walked. `mailbox`: its probes name the target (`$` in the text) and must
 * be refused, identically for Secret and for a name that does not exist; `accepts` marks a
 * command the RFC lets succeed for a missing name (it must still answer alike). `global`: the
 * command names no mailbox; its answer must not mention Secret.
 */
type Walk =
  | { kind: 'mailbox'; setup?: string[]; probes: string[]; accepts?: string; url?: boolean }
  | { kind: 'global'; probes: string[]; run?: (c: Imap) => Promise<string> };

const needsSelected = (cmd: string): Walk => ({ kind: 'mailbox', probes: ['SELECT "$"', cmd] });
const ownSelected = (cmd: string): Walk => ({ kind: 'mailbox', setup: ['SELECT INBOX'], probes: [cmd] });

const WALK: Record<string, Walk> = {
  CAPABILITY: { kind: 'global', probes: ['CAPABILITY'] },
  NOOP: { kind: 'global', probes: ['NOOP'] },
  LOGOUT: { kind: 'global', probes: ['LOGOUT'] },
  ID: { kind: 'global', probes: ['ID NIL'] },
  STARTTLS: { kind: 'global', probes: ['STARTTLS'] }, // BAD once logged in
  LOGIN: { kind: 'global', probes: [`LOGIN ${ALICE} wrong`] }, // BAD once logged in
  AUTHENTICATE: { kind: 'global', probes: ['AUTHENTICATE PLAIN'] },
  ENABLE: { kind: 'global', probes: ['ENABLE CONDSTORE QRESYNC'] },
  SELECT: { kind: 'mailbox', probes: ['SELECT "$"'] },
  EXAMINE: { kind: 'mailbox', probes: ['EXAMINE "$"'] },
  CREATE: { kind: 'mailbox', probes: ['CREATE "$/child"'] },
  DELETE: { kind: 'mailbox', probes: ['DELETE "$"'] },
  RENAME: { kind: 'mailbox', probes: ['RENAME "$" "Stolen"', `RENAME "$" "Other Users/${ALICE}/Renamed"`, 'RENAME INBOX "$/child"'] },
  SUBSCRIBE: { kind: 'mailbox', probes: ['SUBSCRIBE "$"'] },
  // RFC 9051 6.3.8: UNSUBSCRIBE of a name that is not subscribed (or no longer exists) may succeed
  UNSUBSCRIBE: { kind: 'mailbox', probes: ['UNSUBSCRIBE "$"'], accepts: 'UNSUBSCRIBE' },
  LIST: { kind: 'global', probes: ['LIST "" "*"', `LIST "" "Other Users/${ALICE}/*"`, 'LIST "" "Other Users/%"', 'LIST "" "%/%/%" RETURN (MYRIGHTS STATUS (MESSAGES))', 'LIST (SUBSCRIBED) "" "*"'] },
  LSUB: { kind: 'global', probes: ['LSUB "" "*"'] },
  NAMESPACE: { kind: 'global', probes: ['NAMESPACE'] },
  STATUS: { kind: 'mailbox', probes: ['STATUS "$" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE HIGHESTMODSEQ MAILBOXID)'] },
  APPEND: { kind: 'mailbox', probes: ['APPEND "$" {5+}\r\nhello', 'APPEND INBOX CATENATE (URL "/$;UIDVALIDITY=1/;UID=1")', 'APPEND INBOX CATENATE (URL "/$/;UID=1")'] },
  IDLE: { kind: 'global', probes: ['IDLE'], run: idle },
  CHECK: needsSelected('CHECK'),
  CLOSE: needsSelected('CLOSE'),
  UNSELECT: needsSelected('UNSELECT'),
  EXPUNGE: needsSelected('EXPUNGE'),
  SEARCH: needsSelected('SEARCH ALL'),
  SORT: needsSelected('SORT (DATE) UTF-8 ALL'),
  THREAD: needsSelected('THREAD REFERENCES UTF-8 ALL'),
  FETCH: needsSelected('FETCH 1 (FLAGS BODY.PEEK[])'),
  STORE: needsSelected('STORE 1 +FLAGS (\\Deleted)'),
  COPY: ownSelected('COPY 1 "$"'),
  MOVE: ownSelected('MOVE 1 "$"'),
  GETMETADATA: { kind: 'mailbox', probes: ['GETMETADATA "$" /private/comment', 'GETMETADATA (DEPTH infinity) "$" /shared'] },
  SETMETADATA: { kind: 'mailbox', probes: ['SETMETADATA "$" (/private/comment "mine")', 'SETMETADATA "$" (/shared/comment "ours")'] },
  CANCELUPDATE: needsSelected('CANCELUPDATE "t1"'),
  COMPRESS: { kind: 'global', probes: ['COMPRESS NOSUCH'] },
  UNAUTHENTICATE: { kind: 'global', probes: ['UNAUTHENTICATE'] },
  GETQUOTA: { kind: 'global', probes: ['GETQUOTA ""', `GETQUOTA "${ALICE}"`] },
  GETQUOTAROOT: { kind: 'mailbox', probes: ['GETQUOTAROOT "$"'] },
  SETQUOTA: { kind: 'global', probes: [`SETQUOTA "${ALICE}" (STORAGE 1)`] },
  REPLACE: ownSelected('REPLACE 1 "$" {5+}\r\nhello'),
  // RFC 5465: MAILBOXES may name a mailbox that does not exist (yet); the answer must be alike
  NOTIFY: { kind: 'mailbox', probes: ['NOTIFY SET STATUS (MAILBOXES "$" (MessageNew MessageExpunge))'], accepts: 'NOTIFY' },
  SETACL: { kind: 'mailbox', probes: [`SETACL "$" ${BOB} lrswipkxtea`] },
  DELETEACL: { kind: 'mailbox', probes: ['DELETEACL "$" anyone'] },
  GETACL: { kind: 'mailbox', probes: ['GETACL "$"'] },
  LISTRIGHTS: { kind: 'mailbox', probes: [`LISTRIGHTS "$" ${BOB}`] },
  MYRIGHTS: { kind: 'mailbox', probes: ['MYRIGHTS "$"'] },
  // RFC 7377: a source that names no mailbox the user may see is skipped; the answer must be alike
  ESEARCH: { kind: 'mailbox', probes: ['ESEARCH IN (mailboxes "$") ALL', 'ESEARCH IN (subtree "$") RETURN (COUNT) TEXT plan'], accepts: 'ESEARCH' },
  RESETKEY: { kind: 'mailbox', probes: ['RESETKEY "$"'] },
  // URLAUTH URLs name the owner's mailbox in his own namespace: `$` is the last name only
  GENURLAUTH: { kind: 'mailbox', url: true, probes: [`GENURLAUTH "imap://${ALICE}/$/;UID=1;URLAUTH=anonymous" INTERNAL`, `GENURLAUTH "imap://${BOB}/$/;UID=1;URLAUTH=anonymous" INTERNAL`] },
  URLFETCH: { kind: 'mailbox', url: true, accepts: 'URLFETCH', probes: [`URLFETCH "imap://${ALICE}/$/;UID=1;URLAUTH=anonymous:INTERNAL:01a9993e364706816aba3e25717850c26c9cd0d89d"`] },
};

async function idle(c: Imap): Promise<string> {
  c.t.send('idl IDLE\r\n');
  const cont = await c.t.readUntil(/\+ [^\r\n]*\r\n/);
  c.t.send('DONE\r\n');
  return cont + (await c.readTagged('idl')).text;
}

/** A response with tags and the probed name replaced, so two runs compare. */
function normal(text: string, name: string): string {
  return text.split(name).join('<BOX>').replace(/^t\d+ /gm, 'TAG ');
}

/** Runs the probes on a fresh login; returns each probe's whole answer and its status. */
async function walk(port: number, w: Walk, name: string): Promise<{ text: string; status: string }[]> {
  const c = await login(port, BOB);
  try {
    if (w.kind === 'mailbox') for (const cmd of w.setup ?? []) await c.ok(cmd);
    const out = [];
    for (const probe of w.probes) {
      if (w.kind === 'global' && w.run) {
        const text = await w.run(c);
        out.push({ text, status: /idl (OK|NO|BAD)/.exec(text)?.[1] ?? '?' });
        continue;
      }
      out.push(await c.cmd(probe.split('$').join(name)));
    }
    return out;
  } finally {
    c.close();
  }
}

describe('the ACL walk: every IMAP command against a mailbox of another user without rights', () => {
  let server: RunningTestServer;
  let port: number;
  let alice: Imap;
  let before_: string;

  const ownerView = async (): Promise<string> => {
    const parts = [
      await alice.ok('STATUS Secret (MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ SIZE)'),
      await alice.ok('GETACL Secret'),
      await alice.ok('LIST "" "*"'),
      await alice.ok('GETMETADATA (DEPTH infinity) Secret /shared'),
      await alice.ok('EXAMINE Secret'),
      await alice.ok('FETCH 1:* (UID FLAGS MODSEQ)'),
      await alice.ok('UNSELECT'),
    ];
    return parts.map((p) => p.replace(/^t\d+ .*$/gm, '')).join('');
  };

  before(async () => {
    server = await startSharingServer();
    port = server.ports.imap!;
    alice = await login(port, ALICE);
    await alice.ok('CREATE Secret');
    await appendTo(alice, 'Secret', 'the secret plan');
    await alice.ok('SETMETADATA Secret (/shared/comment "top secret")');
    const bob = await login(port, BOB);
    await appendTo(bob, 'INBOX', 'bobs own');
    bob.close();
    before_ = await ownerView();
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  test('the walk table names exactly the commands the dispatcher knows', () => {
    assert.deepEqual(Object.keys(WALK).sort(), [...COMMANDS.keys()].sort());
  });

  for (const [name, w] of Object.entries(WALK)) {
    test(`${name}: ${w.kind === 'mailbox' ? 'refused exactly as for a mailbox that does not exist' : 'says nothing of the hidden mailbox'}`, async () => {
      const named = (full: string) => (w.kind === 'mailbox' && w.url ? full.slice(full.lastIndexOf('/') + 1) : full);
      const secret = await walk(port, w, named(SECRET));
      if (w.kind === 'global') {
        for (const r of secret) assert.doesNotMatch(r.text, /Secret|secret plan|top secret/i, r.text);
        return;
      }
      const ghost = await walk(port, w, named(GHOST));
      secret.forEach((r, i) => {
        const accepted = w.accepts !== undefined && w.probes[i].startsWith(w.accepts);
        if (!accepted) assert.match(r.status, /^(NO|BAD)$/, `${w.probes[i]} → ${r.text}`);
        assert.equal(normal(r.text, named(SECRET)), normal(ghost[i].text, named(GHOST)), `${w.probes[i]}: the same answer as for a missing mailbox`);
        assert.doesNotMatch(r.text, /secret plan|top secret/i);
      });
    });
  }

  test("alice's mailbox is unchanged after the walk", async () => {
    assert.equal(await ownerView(), before_);
  });
});
