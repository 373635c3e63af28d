// Recently Deleted end to end, over real sockets and the built CLI: a phone (imapflow)
// expunges and a laptop restores with MOVE, byte for byte with its flags; python imaplib
// sees the read-only mailbox and restores with UID MOVE; a POP3 DELE is restored with its
// UIDL; the CLI lists and restores; the purge keeps mail until the period is over (the
// clock given with --now, no sleeping); kept mail does not count against quota (and does
// when configured); a QRESYNC client resyncs correctly after a restore.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, type RunningTestServer } from './harness/server.js';
import { Imap } from './imap/client.js';
import { deliver, Pop3Client } from './pop3/helpers.js';

const T = { timeout: 90_000 };
let server: RunningTestServer;
let n = 0;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(args, { dataDir: server.dataDir, timeoutMs: 30_000 });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function newUser(label: string): Promise<{ user: string; pass: string }> {
  const user = `${label}-${++n}@example.test`;
  const pass = `pw-${label}-${n}`;
  await cliOk(['user', 'add', user, '--password', pass]);
  return { user, pass };
}

function raw(subject: string, body = 'Lunch at noon?'): string {
  return `From: Bob <bob@example.test>\r\nTo: someone@example.test\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 10:42:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${n}@example.test>\r\n\r\n${body}\r\n`;
}

function flow(user: string, pass: string, extra: Record<string, unknown> = {}): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false, ...extra });
}

/** The CLI's `deleted list` rows as objects (header line first). */
function parseList(out: string): Record<string, string>[] {
  const [head, ...rows] = out.trim().split('\n');
  const keys = head.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [keys[i], v])));
}

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('Recently Deleted', () => {
  test('phone expunges: the message is in Recently Deleted and MOVE restores it with its flags (imapflow)', T, async () => {
    const { user, pass } = await newUser('phone');
    const original = raw('Holiday photos');
    await deliver(server, user, original);
    const phone = flow(user, pass);
    const laptop = flow(user, pass);
    await phone.connect();
    await laptop.connect();
    try {
      await phone.mailboxOpen('INBOX');
      await phone.messageFlagsAdd('1:*', ['\\Seen', '\\Flagged', '$Work']);
      await phone.messageDelete('1:*'); // \Deleted + EXPUNGE
      assert.equal((await phone.status('INBOX', { messages: true })).messages, 0);

      const list = await laptop.list();
      const rd = list.find((b) => b.path === 'Recently Deleted');
      assert.ok(rd, 'LIST shows Recently Deleted');
      assert.ok(rd.flags.has('\\Noinferiors'), 'with \\Noinferiors');
      const box = await laptop.mailboxOpen('Recently Deleted');
      assert.equal(box.readOnly, true, 'SELECT answers [READ-ONLY]');
      const [kept] = await laptop.fetchAll('1:*', { uid: true, flags: true, source: true });
      assert.ok(kept.flags, 'flags fetched');
      for (const f of ['\\Seen', '\\Flagged', '$Work', '$DeletedVia.imap', `$DeletedBy.${user}`, '$DeletedFrom.INBOX']) assert.ok(kept.flags.has(f), `kept message has ${f}`);
      assert.equal(kept.flags.has('\\Deleted'), false);
      assert.equal(kept.source?.toString(), original);

      await assert.rejects(laptop.messageFlagsAdd('1', ['\\Answered']).then((ok) => assert.ok(ok)), 'STORE is refused in Recently Deleted');
      const moved = await laptop.messageMove('1:*', 'INBOX');
      assert.ok(moved && moved.uidMap && moved.uidMap.size === 1, 'COPYUID for the restore');

      await laptop.mailboxOpen('INBOX');
      const [back] = await laptop.fetchAll('1:*', { uid: true, flags: true, source: true, envelope: true });
      assert.deepEqual([...back.flags!].sort(), ['$Work', '\\Flagged', '\\Seen']);
      assert.equal(back.source?.toString(), original, 'byte for byte');
      assert.equal(back.envelope?.messageId, `<Holidayphotos.${n}@example.test>`);
      assert.equal((await laptop.status('Recently Deleted', { messages: true })).messages, 0);
    } finally {
      await phone.logout();
      await laptop.logout();
    }
  });

  test('python imaplib: Recently Deleted is read-only (STORE, APPEND, EXPUNGE refused) and UID MOVE restores', T, async () => {
    const { user, pass } = await newUser('imaplib');
    await deliver(server, user, raw('From imaplib'));
    const script = `
import imaplib, json, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
out = {}
c.select('INBOX')
c.store('1', '+FLAGS', '(\\\\Deleted $Keep)')
out['expunge'] = c.expunge()[0]
out['list'] = [l.decode() for l in c.list('""', 'Recently*')[1]]
try:
    c.select('"Recently Deleted"')
    out['select'] = 'writable'
except imaplib.IMAP4.readonly as e:
    out['select'] = 'read-only'  # imaplib raises when SELECT answers [READ-ONLY]; the mailbox is selected
    c.is_readonly = True  # what imaplib would have set had we asked with EXAMINE
typ, data = c.uid('SEARCH', 'ALL')
uid = data[0].decode().split()[0]
for name, fn in [('store', lambda: c.store('1', '+FLAGS', '(\\\\Flagged)')),
                 ('append', lambda: c.append('"Recently Deleted"', None, None, b'Subject: x\\r\\n\\r\\nx\\r\\n')),
                 ('expunge_rd', lambda: c.expunge())]:
    try:
        typ, data = fn()
        out[name] = typ + ' ' + ' '.join(d.decode() for d in data if isinstance(d, bytes))
    except imaplib.IMAP4.error as e:
        out[name] = 'NO ' + str(e)
out['move'] = c.uid('MOVE', uid, 'INBOX')[0]
c.select('INBOX')
typ, data = c.fetch('1', '(FLAGS)')
out['flags'] = data[0].decode()
c.logout()
print(json.dumps(out))
`;
    const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
      execFile('python3', ['-c', script, String(server.ports.imap), user, pass], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`python: ${stderr || err.message}`));
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      });
    });
    assert.equal(out.expunge, 'OK');
    assert.match(String((out.list as string[])[0]), /\(\\Noinferiors\) "\/" "Recently Deleted"/);
    assert.equal(out.select, 'read-only');
    assert.match(String(out.store), /^NO .*READ-ONLY/);
    assert.match(String(out.append), /^NO .*CANNOT/);
    assert.match(String(out.expunge_rd), /^NO .*READ-ONLY/);
    assert.equal(out.move, 'OK');
    assert.match(String(out.flags), /FLAGS \(\$Keep( \\Recent)?\)/, "restored with its keyword, without \\Deleted");
  });

  test('POP3 DELE then restore: the message comes back with the UIDL the client already saw', T, async () => {
    const { user, pass } = await newUser('pop');
    await deliver(server, user, raw('Invoice'));
    const p = await Pop3Client.open(server.ports.pop3!);
    assert.match(await p.cmd(`USER ${user}`), /^\+OK/);
    assert.match(await p.cmd(`PASS ${pass}`), /^\+OK/);
    const uidl = (await p.multi('UIDL')).lines[0].split(' ')[1];
    assert.match(await p.cmd('DELE 1'), /^\+OK/);
    assert.match(await p.cmd('QUIT'), /^\+OK/);
    p.t.close();

    const [row] = parseList(await cliOk(['deleted', 'list', '--user', user]));
    assert.equal(row.VIA, 'pop3');
    assert.equal(row.BY, user);
    assert.equal(row.MAILBOX, 'INBOX');
    assert.equal(row.SUBJECT, 'Invoice');
    assert.match(await cliOk(['deleted', 'restore', '--user', user, '--all']), /restored to INBOX/);

    const again = await Pop3Client.open(server.ports.pop3!);
    await again.cmd(`USER ${user}`);
    await again.cmd(`PASS ${pass}`);
    assert.deepEqual((await again.multi('UIDL')).lines, [`1 ${uidl}`]);
    await again.cmd('QUIT');
    again.t.close();
  });

  test('CLI: deleted list with --since, restore by ID, clear errors for bad input', T, async () => {
    const { user, pass } = await newUser('cli');
    await deliver(server, user, raw('First'));
    await deliver(server, user, raw('Second'));
    const c = flow(user, pass);
    await c.connect();
    await c.mailboxOpen('INBOX');
    await c.messageDelete('1:*');
    await c.logout();
    const rows = parseList(await cliOk(['deleted', 'list', '--user', user]));
    assert.deepEqual(rows.map((r) => r.SUBJECT), ['First', 'Second']);
    for (const r of rows) {
      assert.equal(r.MAILBOX, 'INBOX');
      assert.equal(r.VIA, 'imap');
      assert.ok(Number(r.SIZE) > 100);
      assert.ok(Math.abs(Date.parse(r.DELETED) - Date.now()) < 5 * 60_000);
    }
    assert.deepEqual(parseList(await cliOk(['deleted', 'list', '--user', user, '--since', '2999-01-01'])), []);
    const bad = await cli(['deleted', 'list', '--user', user, '--since', 'yesterday-ish']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a date/);
    const none = await cli(['deleted', 'restore', '--user', user]);
    assert.match(none.stderr, /--all or the IDs/);
    const unknown = await cli(['deleted', 'restore', '--user', user, '999']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not in Recently Deleted: 999/);
    assert.match(await cliOk(['deleted', 'restore', '--user', user, rows[1].ID, '--to', 'Archive']), /restored to Archive/);
    assert.deepEqual(parseList(await cliOk(['deleted', 'list', '--user', user])).map((r) => r.SUBJECT), ['First']);
  });

  test('purge: kept until retention.deleted_days have passed (clock given to the purge), then gone', T, async () => {
    const { user, pass } = await newUser('purge');
    await deliver(server, user, raw('Old news'));
    const c = flow(user, pass);
    await c.connect();
    await c.mailboxOpen('INBOX');
    await c.messageDelete('1:*');
    const day = 24 * 60 * 60 * 1000;
    assert.match(await cliOk(['deleted', 'purge', '--now', new Date(Date.now() + 29 * day).toISOString()]), /purged 0 messages/);
    assert.equal(parseList(await cliOk(['deleted', 'list', '--user', user])).length, 1);
    assert.match(await cliOk(['deleted', 'purge', '--now', new Date(Date.now() + 31 * day).toISOString()]), /purged [1-9]\d* messages/);
    assert.equal(parseList(await cliOk(['deleted', 'list', '--user', user])).length, 0);
    assert.equal((await c.status('Recently Deleted', { messages: true })).messages, 0, 'an IMAP client sees it gone');
    await c.logout();
  });

  test('kept mail does not count against quota; with deleted_counts_quota it does', T, async () => {
    const { user, pass } = await newUser('quota');
    await cliOk(['quota', 'set', user, '--storage', '1M']);
    await deliver(server, user, raw('Big', 'x'.repeat(5000)));
    const used = async (out?: string) => Number(/^storage\t(\d+)/m.exec(out ?? (await cliOk(['quota', 'show', user])))![1]);
    assert.ok((await used()) > 5000);
    const c = flow(user, pass);
    await c.connect();
    await c.mailboxOpen('INBOX');
    await c.messageDelete('1:*');
    await c.logout();
    assert.equal(await used(), 0, 'nothing counted after the expunge');

    const counting = await startServer({ env: { MAILROOM_RETENTION_DELETED_COUNTS_QUOTA: 'true' } });
    try {
      const u = 'counted@example.test';
      const r = await runCli(['user', 'add', u, '--password', 'pw'], { dataDir: counting.dataDir });
      assert.equal(r.code, 0, r.stderr);
      await deliver(counting, u, raw('Counted', 'y'.repeat(5000)));
      const c2 = new ImapFlow({ host: '127.0.0.1', port: counting.ports.imap!, secure: false, doSTARTTLS: false, auth: { user: u, pass: 'pw' }, logger: false });
      await c2.connect();
      await c2.mailboxOpen('INBOX');
      await c2.messageDelete('1:*');
      await c2.logout();
      const show = await runCli(['quota', 'show', u], { dataDir: counting.dataDir, env: { MAILROOM_RETENTION_DELETED_COUNTS_QUOTA: 'true' } });
      assert.ok((await used(show.stdout)) > 5000, 'still counted while kept');
    } finally {
      await counting.stop();
    }
  });

  test('QRESYNC after a restore: VANISHED (EARLIER) for the expunged UID, the restored message as a new UID', T, async () => {
    const { user, pass } = await newUser('qresync');
    await deliver(server, user, raw('Keep me'));
    await deliver(server, user, raw('Delete me'));
    const a = await Imap.open(server.ports.imap!, { login: false });
    await a.ok(`LOGIN ${user} ${pass}`);
    await a.ok('ENABLE QRESYNC');
    const sel = await a.ok('SELECT INBOX');
    const uidValidity = /UIDVALIDITY (\d+)/.exec(sel)![1];
    const modseq = /HIGHESTMODSEQ (\d+)/.exec(sel)![1];
    await a.ok('LOGOUT').catch(() => undefined);
    a.close();

    const b = await Imap.open(server.ports.imap!, { login: false });
    await b.ok(`LOGIN ${user} ${pass}`);
    await b.ok('SELECT INBOX');
    await b.ok('UID STORE 2 +FLAGS (\\Deleted)');
    await b.ok('UID EXPUNGE 2');
    await b.ok('SELECT "Recently Deleted"');
    const moved = await b.ok('UID MOVE 1 INBOX');
    assert.match(moved, /COPYUID \d+ 1 3/);
    b.close();

    const c = await Imap.open(server.ports.imap!, { login: false });
    await c.ok(`LOGIN ${user} ${pass}`);
    await c.ok('ENABLE QRESYNC');
    const resync = await c.ok(`SELECT INBOX (QRESYNC (${uidValidity} ${modseq} 1:2))`);
    assert.match(resync, /\* VANISHED \(EARLIER\) 2\r\n/);
    assert.match(resync, /\* 2 EXISTS\r\n/);
    const fetched = await c.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.match(fetched, /UID 3 /, 'the restored message under its new UID');
    assert.doesNotMatch(fetched, /\$Deleted/, 'without the record keywords');
    c.close();
  });
});
