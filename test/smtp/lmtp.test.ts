// LMTP (RFC 2033): LHLO only, one reply per accepted recipient after DATA and after
// BDAT LAST, each telling that recipient's own outcome; python3 smtplib.LMTP interoperates.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from '../harness/transcript.js';
import { cmd, reply, startWorld, type World } from './setup.js';

const run = promisify(execFile);

describe('LMTP', () => {
  let w: World;
  before(async () => {
    w = await startWorld();
  });
  after(() => w.stop());

  it('LHLO lists no STARTTLS, AUTH or DSN; EHLO and HELO are unknown', async () => {
    const t = await connect(w.server.ports.lmtp!);
    assert.equal(await reply(t), '220 mx.example.test LMTP Mailroom ready\r\n');
    assert.equal(await cmd(t, 'EHLO client.test'), '500 5.5.2 Syntax error, command unrecognized\r\n');
    assert.equal(await cmd(t, 'LHLO mta.local'), '250-mx.example.test Hello mta.local [127.0.0.1]\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 LIMITS RCPTMAX=100\r\n');
    t.close();
  });

  it('one reply per recipient after DATA: delivered, over quota, delivered', async () => {
    const bob = (await w.store.getUser('bob@example.test'))!;
    const t = await connect(w.server.ports.lmtp!);
    await reply(t);
    await cmd(t, 'LHLO mta.local');
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    assert.equal(await cmd(t, 'RCPT TO:<alice@example.test>'), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<bob@example.test>'), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<carol@other.test>'), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<nobody@example.test>'), '550 5.1.1 <nobody@example.test>: Recipient address rejected: no such user here\r\n');
    // Bob fills up between RCPT and DATA: only his line says so.
    await w.store.setQuota(bob.id, { bytes: (await w.store.getQuota(bob.id)).usedBytes, messages: null });
    try {
      assert.equal(await cmd(t, 'DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
      t.send('Subject: lmtp\r\n\r\nper recipient\r\n.\r\n');
      assert.equal(await reply(t), '250 2.0.0 <alice@example.test> Saved\r\n');
      assert.equal(await reply(t), '452 4.2.2 <bob@example.test> Mailbox full\r\n');
      assert.equal(await reply(t), '250 2.0.0 <carol@other.test> Saved\r\n');
    } finally {
      await w.store.setQuota(bob.id, { bytes: null, messages: null });
    }
    const has = async (u: string) => (await w.messages(u)).filter((m) => m.text.includes('Subject: lmtp')).length;
    assert.deepEqual([await has('alice@example.test'), await has('bob@example.test'), await has('carol@other.test')], [1, 0, 1]);
    const [m] = (await w.messages('alice@example.test')).filter((x) => x.text.includes('Subject: lmtp'));
    assert.match(m.text, /^Return-Path: <a@remote\.test>\r\nReceived: from mta\.local \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(Mailroom\) with LMTP id /);
    t.close();
  });

  it('BDAT LAST also answers per recipient', async () => {
    const t = await connect(w.server.ports.lmtp!);
    await reply(t);
    await cmd(t, 'LHLO mta.local');
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'RCPT TO:<sales@example.test>');
    const body = 'Subject: chunked lmtp\r\n\r\nx\r\n';
    t.send(`BDAT ${body.length} LAST\r\n${body}`);
    assert.equal(await reply(t), '250 2.0.0 <alice@example.test> Saved\r\n');
    assert.equal(await reply(t), '250 2.0.0 <sales@example.test> Saved\r\n');
    assert.equal((await w.messages('alice@example.test')).filter((m) => m.text.includes('Subject: chunked lmtp')).length, 1, 'one copy although reached twice');
    t.close();
  });

  it('python3 smtplib.LMTP gets a per-recipient result', async () => {
    const script = `import smtplib\nl=smtplib.LMTP('127.0.0.1', ${w.server.ports.lmtp})\nprint(l.sendmail('a@remote.test', ['bob@example.test','carol@other.test'], b'Subject: py lmtp\\r\\n\\r\\nhi\\r\\n'))\nl.quit()`;
    const { stdout } = await run('python3', ['-c', script]);
    assert.equal(stdout.trim(), '{}'); // no refused recipients
    assert.equal((await w.messages('bob@example.test')).filter((m) => m.text.includes('Subject: py lmtp')).length, 1);
  });
});
