import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChangeBus } from '../store/bus.js';
import { openStore } from '../store/open.js';
import type { Store, User } from '../store/types.js';
import { indexMessage } from '../mime/index-message.js';
import { createUser } from './accounts.js';
import { bodyHash, findSentDuplicate, normaliseSentCopySetting, SENT_DUPLICATE_WINDOW_MS, sentMailbox, storeSentCopy, wantsSentCopy } from './sent-copies.js';
import { MessageSource } from './message-source.js';

const msg = (id: string, body: string, extra = '') => Buffer.from(`From: alice@example.test\r\nTo: bob@remote.test\r\n${extra}Message-ID: <${id}@example.test>\r\nSubject: s\r\n\r\n${body}`);
const fingerprint = (raw: Buffer) => {
  const index = indexMessage(raw, { largeBodyThreshold: 1 << 20 });
  return { messageId: index.envelope.messageId, bodyHash: bodyHash(raw, index.body.headerEnd) };
};

describe('sent copies', () => {
  let dir: string;
  let store: Store;
  let alice: User;
  const opts = () => ({ spoolDir: join(dir, 'tmp'), largePartThreshold: 65536 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-sent-'));
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    alice = await createUser(store, 'alice@example.test', 'pw');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('files the copy in \\Sent, seen, outside quota', async () => {
    await store.setQuota(alice.id, { bytes: 1, messages: null });
    const { mailboxId, uid } = await storeSentCopy(store, alice, MessageSource.fromBuffer(msg('one', 'hello\r\n')), opts());
    const sent = await sentMailbox(store, alice.id);
    assert.equal(sent.id, mailboxId);
    const [row] = await store.getMessages(mailboxId, [uid], alice.id);
    assert.deepEqual(row.flags, ['\\Seen']);
    await store.setQuota(alice.id, { bytes: null, messages: null });
  });

  it('an APPEND with the same Message-ID and body (other headers differ) is a duplicate', async () => {
    const { mailboxId, uid } = await storeSentCopy(store, alice, MessageSource.fromBuffer(msg('two', 'body two\r\n')), opts());
    const clientCopy = msg('two', 'body two\r\n', 'Bcc: carol@example.test\r\nX-Mailer: test\r\n');
    assert.equal(await findSentDuplicate(store, alice.id, mailboxId, fingerprint(clientCopy)), uid);
  });

  it('different body, different Message-ID, other mailbox, or too late: not a duplicate', async () => {
    const { mailboxId } = await storeSentCopy(store, alice, MessageSource.fromBuffer(msg('three', 'body three\r\n')), opts());
    assert.equal(await findSentDuplicate(store, alice.id, mailboxId, fingerprint(msg('three', 'changed\r\n'))), null);
    assert.equal(await findSentDuplicate(store, alice.id, mailboxId, fingerprint(msg('other', 'body three\r\n'))), null);
    const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
    assert.equal(await findSentDuplicate(store, alice.id, inbox.id, fingerprint(msg('three', 'body three\r\n'))), null);
    const later = Date.now() + SENT_DUPLICATE_WINDOW_MS + 60_000;
    assert.equal(await findSentDuplicate(store, alice.id, mailboxId, fingerprint(msg('three', 'body three\r\n')), later), null);
    assert.equal(await findSentDuplicate(store, alice.id, mailboxId, { messageId: null, bodyHash: 'x' }), null);
  });

  it('the per-user switch wins over the default; bad values are ignored', () => {
    assert.equal(wantsSentCopy({ ...alice, settings: {} }, true), true);
    assert.equal(wantsSentCopy({ ...alice, settings: { 'sent.copy': 'off' } }, true), false);
    assert.equal(wantsSentCopy({ ...alice, settings: { 'sent.copy': 'on' } }, false), true);
    assert.equal(wantsSentCopy({ ...alice, settings: { 'sent.copy': 'maybe' } }, false), false);
    assert.equal(normaliseSentCopySetting('YES'), 'on');
    assert.throws(() => normaliseSentCopySetting('maybe'), /expected on \| off/);
  });

  it('creates Sent when the user has none', async () => {
    const bob = await createUser(store, 'bob@example.test', 'pw');
    await store.deleteMailbox(bob.id, 'Sent');
    const box = await sentMailbox(store, bob.id);
    assert.equal(box.name, 'Sent');
    assert.equal(box.specialUse, '\\Sent');
  });
});
