// MULTISEARCH (RFC 7377) over raw transcripts: ESEARCH IN (...) with every source filter, in
// authenticated and selected state, the (TAG MAILBOX UIDVALIDITY) correlator with exact bytes,
// result options MIN MAX COUNT ALL PARTIAL and SAVE, the errors the RFC names; then python
// imaplib (_simple_command) and imapflow (exec) sending ESEARCH.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { ImapFlow } from 'imapflow';
import { Imap, message, PASS, startImapServer, USER } from './client.js';

let server: RunningTestServer;
let c: Imap;
/** UIDVALIDITY by mailbox name. */
const validity = new Map<string, string>();

/** Mailbox → subjects of its messages, UIDs 1.. in this order. */
const MAIL: [string, string[]][] = [
  ['INBOX', ['alpha in', 'beta in']],
  ['Work', ['alpha w1', 'gamma w2', 'alpha w3']],
  ['Work/A', ['alpha a1']],
  ['Work/A/Deep', ['alpha deep']],
  ['Lists', ['beta l1', 'alpha l2']],
];

before(async () => {
  server = await startImapServer();
  c = await Imap.open(server.ports.imap!);
  for (const [box, subjects] of MAIL) {
    if (box !== 'INBOX') await c.ok(`CREATE ${box}`);
    for (const s of subjects) await c.ok(`APPEND ${box} () {${Buffer.byteLength(message(s))}+}\r\n${message(s)}`);
    validity.set(box, /UIDVALIDITY (\d+)/.exec(await c.ok(`STATUS ${box} (UIDVALIDITY)`))![1]);
  }
  await c.ok('SUBSCRIBE Lists');
  await c.ok('SUBSCRIBE Work/A');
});
after(async () => {
  c?.close();
  await server?.stop();
});

/** The ESEARCH responses of an answer as `mailbox: items`, checking each correlator's TAG and UIDVALIDITY. */
function results(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\* ESEARCH \(TAG "(t\d+)" MAILBOX "([^"]+)" UIDVALIDITY (\d+)\) (.*)\r$/gm)) {
    assert.match(text, new RegExp(`^${m[1]} OK `, 'm'), 'the TAG is the command tag');
    assert.equal(m[3], validity.get(m[2]), `UIDVALIDITY of ${m[2]}`);
    out.push(`${m[2]}: ${m[4]}`);
  }
  assert.equal(out.length, (text.match(/^\* ESEARCH/gm) ?? []).length, `every ESEARCH has the correlator: ${text}`);
  return out;
}

describe('MULTISEARCH (RFC 7377)', () => {
  test('advertised after login', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY [^\r\n]* MULTISEARCH[ \r]/m);
  });

  test('exact bytes of one answer', async () => {
    const r = await c.cmd('ESEARCH IN (mailboxes Lists) RETURN (MIN COUNT) SUBJECT alpha');
    const tag = /^(t\d+) OK/m.exec(r.text)![1];
    assert.equal(r.text, `* ESEARCH (TAG "${tag}" MAILBOX "Lists" UIDVALIDITY ${validity.get('Lists')}) UID MIN 2 COUNT 1\r\n${tag} OK ESEARCH completed\r\n`);
  });

  test('source filters and result options, without a selected mailbox', async () => {
    const cases: [string, string[]][] = [
      ['ESEARCH IN (personal) SUBJECT alpha', ['INBOX: UID ALL 1', 'Lists: UID ALL 2', 'Work: UID ALL 1,3', 'Work/A: UID ALL 1', 'Work/A/Deep: UID ALL 1']],
      ['ESEARCH IN (mailboxes (Lists Work)) RETURN () SUBJECT alpha', ['Lists: UID ALL 2', 'Work: UID ALL 1,3']],
      ['ESEARCH IN (mailboxes Nowhere) ALL', []],
      ['ESEARCH IN (inboxes) ALL', ['INBOX: UID ALL 1:2']],
      ['ESEARCH IN (subscribed) RETURN (COUNT) ALL', ['INBOX: UID COUNT 2', 'Lists: UID COUNT 2', 'Work/A: UID COUNT 1']], // INBOX is subscribed from the start
      ['ESEARCH IN (subtree Work) RETURN (MAX) SUBJECT alpha', ['Work: UID MAX 3', 'Work/A: UID MAX 1', 'Work/A/Deep: UID MAX 1']],
      ['ESEARCH IN (subtree-one Work) RETURN (MIN MAX COUNT) ALL', ['Work: UID MIN 1 MAX 3 COUNT 3', 'Work/A: UID MIN 1 MAX 1 COUNT 1']],
      ['ESEARCH IN (subtree Work/A mailboxes Work/A inboxes) ALL', ['Work/A: UID ALL 1', 'Work/A/Deep: UID ALL 1', 'INBOX: UID ALL 1:2']],
      ['ESEARCH IN (personal) RETURN (COUNT PARTIAL -1:-1) SUBJECT alpha', ['INBOX: UID COUNT 1 PARTIAL (-1:-1 1)', 'Lists: UID COUNT 1 PARTIAL (-1:-1 2)', 'Work: UID COUNT 2 PARTIAL (-1:-1 3)', 'Work/A: UID COUNT 1 PARTIAL (-1:-1 1)', 'Work/A/Deep: UID COUNT 1 PARTIAL (-1:-1 1)']],
      ['ESEARCH IN (personal) SUBJECT nothing-like-this', []],
      ['ESEARCH IN (personal) UID 2:* SUBJECT beta', ['INBOX: UID ALL 2']],
      ['ESEARCH IN (personal) CHARSET UTF-8 OR SUBJECT gamma SUBJECT l1', ['Lists: UID ALL 1', 'Work: UID ALL 2']],
    ];
    for (const [cmd, want] of cases) assert.deepEqual(results(await c.ok(cmd)), want, cmd);
  });

  test('errors: BAD for what the RFC refuses, NO [BADCHARSET]; the session goes on', async () => {
    const rows: [string, RegExp][] = [
      ['ESEARCH ALL', /^BAD .*selected/],
      ['ESEARCH IN (selected) ALL', /^BAD .*selected/],
      ['ESEARCH IN (selected-delayed) ALL', /^BAD .*SELECTED-DELAYED/],
      ['ESEARCH IN (personal (depth 2)) ALL', /^BAD .*scope option/],
      ['ESEARCH IN (personal) RETURN (SAVE) ALL', /^BAD .*SAVE/],
      ['ESEARCH IN (personal) RETURN (UPDATE) ALL', /^BAD .*UPDATE/],
      ['ESEARCH IN (personal) 1:2', /^BAD .*Sequence numbers/],
      ['ESEARCH IN (personal) NOT $', /^BAD .*Sequence numbers/],
      ['ESEARCH IN (personal) RETURN (ALL PARTIAL 1:2) ALL', /^BAD /],
      ['ESEARCH IN (personal) CHARSET KOI8-R ALL', /^NO \[BADCHARSET/],
      ['ESEARCH IN (personal)', /^BAD /],
    ];
    for (const [cmd, want] of rows) {
      const r = await c.cmd(cmd);
      assert.match(r.tagged, want, cmd);
      assert.doesNotMatch(r.text, /^\* ESEARCH/m, cmd);
    }
    assert.equal(results(await c.ok('ESEARCH IN (inboxes) RETURN (COUNT) ALL')).length, 1);
  });

  test('in selected state: "selected", SAVE for the selected mailbox only, numbers as UIDs', async () => {
    const s = await Imap.open(server.ports.imap!);
    try {
      await s.ok('SELECT Work');
      assert.deepEqual(results(await s.ok('ESEARCH SUBJECT alpha')), ['Work: UID ALL 1,3']);
      assert.deepEqual(results(await s.ok('ESEARCH IN (selected mailboxes Lists) RETURN (MIN) SUBJECT alpha')), ['Work: UID MIN 1', 'Lists: UID MIN 2']);
      assert.deepEqual(results(await s.ok('ESEARCH IN (selected) RETURN (SAVE) SUBJECT alpha')), []);
      assert.match(await s.ok('UID FETCH $ (UID)'), /^\* 1 FETCH \(UID 1\)\r\n\* 3 FETCH \(UID 3\)\r\n/);
      assert.deepEqual(results(await s.ok('ESEARCH IN (selected) RETURN (SAVE COUNT) 2:3')), ['Work: UID COUNT 2']);
      assert.match(await s.ok('UID FETCH $ (UID)'), /^\* 2 FETCH \(UID 2\)\r\n\* 3 FETCH \(UID 3\)\r\n/);
      assert.deepEqual(results(await s.ok('ESEARCH IN (selected) UID $')), ['Work: UID ALL 2:3']);
      assert.match((await s.cmd('ESEARCH IN (selected personal) RETURN (SAVE) ALL')).tagged, /^BAD /);
    } finally {
      s.close();
    }
  });

  test('with UIDONLY, sequence numbers are BAD [UIDREQUIRED] in ESEARCH too', async () => {
    const s = await Imap.open(server.ports.imap!);
    try {
      await s.ok('ENABLE UIDONLY');
      await s.ok('SELECT Work');
      assert.match((await s.cmd('ESEARCH IN (selected) 1')).tagged, /^BAD \[UIDREQUIRED\]/);
      assert.deepEqual(results(await s.ok('ESEARCH IN (selected) UID 1:2')), ['Work: UID ALL 1:2']);
    } finally {
      s.close();
    }
  });

  test('python imaplib sends ESEARCH IN (personal) and reads the ESEARCH responses', () => {
    const script = [
      'import imaplib, sys',
      'm = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
      'm.login(sys.argv[2], sys.argv[3])',
      'imaplib.Commands["ESEARCH"] = ("AUTH", "SELECTED")',
      'typ, data = m._simple_command("ESEARCH", "IN", "(mailboxes (INBOX Lists))", "RETURN", "(COUNT)", "SUBJECT", "beta")',
      'assert typ == "OK", (typ, data)',
      'for line in m.response("ESEARCH")[1]:',
      '    print(line.decode())',
      'm.logout()',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, String(server.ports.imap), USER, PASS], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => l.replace(/TAG "[^"]+"/, 'TAG x').replace(/UIDVALIDITY \d+/, 'UIDVALIDITY n'));
    assert.deepEqual(lines, ['(TAG x MAILBOX "INBOX" UIDVALIDITY n) UID COUNT 1', '(TAG x MAILBOX "Lists" UIDVALIDITY n) UID COUNT 1']);
  });

  test('imapflow exec("ESEARCH") gets one ESEARCH per mailbox with its correlator', async () => {
    const flow = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, doSTARTTLS: false, auth: { user: USER, pass: PASS }, logger: false });
    await flow.connect();
    try {
      const seen: string[] = [];
      const attrs = [
        { type: 'ATOM', value: 'IN' },
        [{ type: 'ATOM', value: 'subtree-one' }, { type: 'STRING', value: 'Work' }],
        { type: 'ATOM', value: 'RETURN' },
        [{ type: 'ATOM', value: 'MAX' }],
        { type: 'ATOM', value: 'SUBJECT' },
        { type: 'STRING', value: 'alpha' },
      ];
      /* eslint-disable @typescript-eslint/no-explicit-any */
      const untagged = {
        ESEARCH: async (u: any) => {
          const corr = u.attributes[0] as any[];
          const rest = (u.attributes as any[]).slice(1).map((a) => a.value).join(' ');
          seen.push(`${corr.map((a) => a.value).join(' ')} | ${rest}`);
        },
      };
      /* eslint-enable @typescript-eslint/no-explicit-any */
      const r = await (flow as unknown as { exec: (c: string, a: unknown[], o: unknown) => Promise<{ next: () => void; response: { command: string } }> }).exec('ESEARCH', attrs, { untagged });
      r.next();
      assert.equal(r.response.command, 'OK');
      assert.equal(seen.length, 2, seen.join('\n'));
      assert.match(seen[0], new RegExp(`^TAG [0-9A-F]+ MAILBOX Work UIDVALIDITY ${validity.get('Work')} \\| UID MAX 3$`));
      assert.match(seen[1], new RegExp(`^TAG [0-9A-F]+ MAILBOX Work/A UIDVALIDITY ${validity.get('Work/A')} \\| UID MAX 1$`));
    } finally {
      await flow.logout();
    }
  });
});
