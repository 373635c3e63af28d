/**
 * Sharing with third-party clients: python3 imaplib (getacl, setacl, myrights, listrights,
 * deleteacl) and imapflow (NAMESPACE, LIST, opening and reading another user's mailbox).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { repoRoot } from '../harness/repo-root.js';
import type { RunningTestServer } from '../harness/server.js';
import { appendTo, login, PASS, startSharingServer } from './sharing.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const T = { timeout: 60_000 };

function python(port: number): Promise<Record<string, unknown>> {
  const script = join(repoRoot, 'test', 'imap', 'py', 'acl_client.py');
  return new Promise((resolve, reject) => {
    execFile('python3', [script, '127.0.0.1', String(port), ALICE, PASS, BOB, PASS], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`acl_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

describe('sharing with third-party clients', () => {
  let server: RunningTestServer;
  let port: number;

  before(async () => {
    server = await startSharingServer();
    port = server.ports.imap!;
    const alice = await login(port, ALICE);
    await alice.ok('CREATE Projects');
    await appendTo(alice, 'Projects', 'shared one');
    alice.close();
  });
  after(async () => {
    await server.stop();
  });

  test('python imaplib: setacl, getacl, myrights, listrights, deleteacl; the grantee reads under Other Users', T, async () => {
    const r = await python(port);
    assert.ok((r.capabilities as string[]).includes('ACL'));
    assert.ok((r.capabilities as string[]).includes('RIGHTS=texk'));
    assert.ok((r.capabilities as string[]).includes('LIST-MYRIGHTS'));
    assert.equal(r.setacl, 'OK');
    assert.deepEqual(r.getacl, ['"Projects" alice@example.test lrswipkxteancd bob@example.test lrs']);
    assert.deepEqual(r.myrights, ['"Projects" lrswipkxteancd']);
    assert.deepEqual(r.listrights, ['"Projects" bob@example.test "" l r s w i p k x t e a n']);
    assert.ok((r.list as string[]).includes('(\\HasNoChildren) "/" "Other Users/alice@example.test/Projects"'), JSON.stringify(r.list));
    assert.deepEqual(r.select, ['OK', ['1']]);
    assert.equal(r.fetched, true);
    assert.deepEqual(r.grantee_myrights, ['"Other Users/alice@example.test/Projects" lrs']);
    assert.equal(r.grantee_store_flagged, 'NO', 'w is not granted');
    assert.deepEqual(r.owner_flags, ['1 (FLAGS ())'], "bob's reading is not alice's \\Seen");
    assert.equal(r.deleteacl, 'OK');
    assert.deepEqual(r.getacl_after, ['"Projects" alice@example.test lrswipkxteancd']);
  });

  test('imapflow: namespaces, LIST and reading a shared mailbox', T, async () => {
    const alice = await login(port, ALICE);
    await alice.ok(`SETACL Projects ${BOB} lr`);
    alice.close();
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: BOB, pass: PASS }, logger: false });
    await c.connect();
    try {
      const ns = (c as unknown as { namespaces: unknown }).namespaces as { other?: { prefix: string; delimiter: string }[]; shared?: { prefix: string; delimiter: string }[] };
      assert.deepEqual(ns.other?.map((n) => n.prefix), ['Other Users/']);
      assert.deepEqual(ns.shared?.map((n) => n.prefix), ['Shared/']);
      const paths = (await c.list()).map((m) => m.path);
      assert.ok(paths.includes(`Other Users/${ALICE}/Projects`), paths.join(', '));
      const box = await c.mailboxOpen(`Other Users/${ALICE}/Projects`);
      assert.equal(box.exists, 1);
      assert.equal(box.readOnly, true);
      const msg = await c.fetchOne('1', { source: true, flags: true });
      assert.ok(msg && msg.source?.toString().includes('Subject: shared one'));
      await assert.rejects(c.messageFlagsAdd('1', ['\\Flagged']).then((ok) => assert.ok(ok)), 'STORE is refused');
    } finally {
      await c.logout();
    }
  });
});
