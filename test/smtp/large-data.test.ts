// Issue 9: DATA of a few hundred KB hung when the final CRLF.CRLF arrived in the same
// write as the last data (python smtplib 400 KB / 1 MB, swaks 600 KB). Raw clients send
// 400 KB, 1 MB and 5 MB with the terminator glued to the data and with ".\r\n" in a
// write of its own, on the MX, submission and LMTP; python3 smtplib sends 400 KB and
// 1 MB to the MX. And a message re-sent with the same Message-ID is stored once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type Transcript } from '../harness/transcript.js';
import { cmd, reply, startWorld, type World } from './setup.js';

const run = promisify(execFile);
const PLAIN = Buffer.from('\0alice@example.test\0secret').toString('base64');
const REPLY_MS = 60_000; // a safety bound for a 5 MB message on a loaded machine, not a speed check

/** A message of about `size` bytes, CRLF lines of 78 characters, ending in CRLF. */
function message(subject: string, size: number, messageId = `<${subject.replace(/\W/g, '')}@client.test>`): string {
  // From someone outside (the MX refuses a local From it cannot authenticate); alice may send as it (send.as)
  const head = `From: someone@remote.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstu\r\n';
  return head + line.repeat(Math.ceil(Math.max(0, size - head.length) / line.length));
}

/** Writes all of `data` (one write call) and waits until the socket has taken it. */
function writeAll(t: Transcript, data: string): Promise<void> {
  return new Promise((resolve, reject) => t.socket.write(data, (err) => (err ? reject(err) : resolve())));
}

async function sendData(t: Transcript, body: string, terminator: 'glued' | 'separate'): Promise<void> {
  assert.equal(await cmd(t, 'DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  if (terminator === 'glued') {
    await writeAll(t, `${body}.\r\n`);
  } else {
    await writeAll(t, body);
    await writeAll(t, '.\r\n');
  }
}

const SIZES: [string, number][] = [
  ['400 KB', 400 * 1024],
  ['1 MB', 1024 * 1024],
  ['5 MB', 5 * 1024 * 1024],
];

describe('large DATA (issue 9)', () => {
  let w: World;
  before(async () => {
    w = await startWorld({}, async (store) => store.setUserSetting((await store.getUser('alice@example.test'))!.id, 'send.as', 'someone@remote.test'));
  });
  after(() => w.stop());

  const count = async (address: string, subject: string) => (await w.messages(address)).filter((m) => m.text.includes(`Subject: ${subject}\r\n`)).length;

  for (const [label, size] of SIZES) {
    for (const terminator of ['glued', 'separate'] as const) {
      it(`MX: ${label}, terminator ${terminator}: 250 and one stored copy`, async () => {
        const subject = `mx ${label} ${terminator}`;
        const t = await connect(w.server.ports.smtp!);
        await reply(t);
        await cmd(t, 'EHLO client.test');
        assert.equal(await cmd(t, 'MAIL FROM:<someone@remote.test>'), '250 2.1.0 Sender OK\r\n');
        assert.equal(await cmd(t, 'RCPT TO:<bob@example.test>'), '250 2.1.5 Recipient OK\r\n');
        await sendData(t, message(subject, size), terminator);
        assert.match(await reply(t, REPLY_MS), /^250 2\.0\.0 Ok: queued as /);
        assert.equal(await cmd(t, 'QUIT'), '221 2.0.0 mx.example.test closing connection\r\n');
        assert.equal(await count('bob@example.test', subject), 1);
      });

      it(`LMTP: ${label}, terminator ${terminator}: one 250 per recipient`, async () => {
        const subject = `lmtp ${label} ${terminator}`;
        const t = await connect(w.server.ports.lmtp!);
        await reply(t);
        await cmd(t, 'LHLO mta.local');
        await cmd(t, 'MAIL FROM:<someone@remote.test>');
        await cmd(t, 'RCPT TO:<alice@example.test>');
        await cmd(t, 'RCPT TO:<bob@example.test>');
        await sendData(t, message(subject, size), terminator);
        assert.equal(await reply(t, REPLY_MS), '250 2.0.0 <alice@example.test> Saved\r\n');
        assert.equal(await reply(t, REPLY_MS), '250 2.0.0 <bob@example.test> Saved\r\n');
        t.close();
        assert.equal(await count('alice@example.test', subject), 1);
        assert.equal(await count('bob@example.test', subject), 1);
      });
    }
  }

  it('submission: 1 MB with the terminator glued, then the next command in the same session', async () => {
    const subject = 'submission 1 MB glued';
    const t = await connect(w.server.ports.submission!);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    assert.equal(await cmd(t, `AUTH PLAIN ${PLAIN}`), '235 2.7.0 Authentication successful\r\n');
    await cmd(t, 'MAIL FROM:<alice@example.test>');
    await cmd(t, 'RCPT TO:<bob@example.test>');
    // The terminator and the next command arrive in one write (PIPELINING).
    assert.equal(await cmd(t, 'DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
    await writeAll(t, `${message(subject, 1024 * 1024)}.\r\nNOOP\r\n`);
    assert.match(await reply(t, REPLY_MS), /^250 2\.0\.0 Ok: queued as /);
    assert.equal(await reply(t), '250 2.0.0 OK\r\n');
    t.close();
    assert.equal(await count('bob@example.test', subject), 1);
  });

  for (const [label, size] of SIZES.slice(0, 2)) {
    it(`python3 smtplib.sendmail of ${label} to the MX gets its reply`, async () => {
      const subject = `python ${label}`;
      const script = [
        'import smtplib, sys',
        `s = smtplib.SMTP('127.0.0.1', ${w.server.ports.smtp}, timeout=120)`,
        `body = sys.stdin.buffer.read()`,
        `print(s.sendmail('someone@remote.test', ['bob@example.test'], body))`,
        's.quit()',
      ].join('\n');
      const child = run('python3', ['-c', script], { timeout: 120_000 });
      child.child.stdin!.end(message(subject, size));
      const { stdout } = await child;
      assert.equal(stdout.trim(), '{}'); // sendmail returned: the 250 arrived, nobody refused
      assert.equal(await count('bob@example.test', subject), 1);
    });
  }

  it('a sender that gives up right after the terminator and sends again ends up with one stored copy', async () => {
    const subject = 'gave up then resent';
    const body = message(subject, 1024 * 1024, '<gave-up@client.test>');
    const t = await connect(w.server.ports.smtp!);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    await cmd(t, 'MAIL FROM:<gaveup@remote.test>');
    await cmd(t, 'RCPT TO:<bob@example.test>');
    assert.equal(await cmd(t, 'DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
    await writeAll(t, `${body}.\r\n`);
    t.close(); // gone before any reply: the server either stores nothing, or stores and warns
    // Wait for the server's verdict on the first copy, so the re-send is not concurrent with it.
    const verdict = await w.server.waitForLog((l) => l.from === 'gaveup@remote.test' && (l.msg === 'message accepted' || String(l.msg).startsWith('client left')), REPLY_MS);
    const again = await connect(w.server.ports.smtp!);
    await reply(again);
    await cmd(again, 'EHLO client.test');
    await cmd(again, 'MAIL FROM:<gaveup@remote.test>');
    await cmd(again, 'RCPT TO:<bob@example.test>');
    await sendData(again, body, 'glued');
    assert.match(await reply(again, REPLY_MS), /^250 2\.0\.0 Ok: queued as /);
    again.close();
    assert.equal(await count('bob@example.test', subject), 1, `first copy: ${verdict.msg}`);
  });

  it('a message re-sent with the same Message-ID over submission is answered 250 and stored once', async () => {
    const subject = 'resent once';
    const body = message(subject, 2000, '<resend-1@client.test>');
    const replies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await connect(w.server.ports.submission!);
      await reply(t);
      await cmd(t, 'EHLO client.test');
      await cmd(t, `AUTH PLAIN ${PLAIN}`);
      await cmd(t, 'MAIL FROM:<alice@example.test>');
      await cmd(t, 'RCPT TO:<bob@example.test>');
      await sendData(t, body, 'glued');
      replies.push(await reply(t));
      t.close();
    }
    assert.match(replies[0], /^250 2\.0\.0 Ok: queued as (\S+)\r\n$/);
    assert.equal(replies[1], replies[0]); // the same queue id: the client learns it is the same message
    assert.equal(await count('bob@example.test', subject), 1);
    assert.equal((await w.messages('alice@example.test', 'Sent')).filter((m) => m.text.includes(`Subject: ${subject}\r\n`)).length, 1);

    // Another Message-ID is another message.
    const t = await connect(w.server.ports.submission!);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    await cmd(t, `AUTH PLAIN ${PLAIN}`);
    await cmd(t, 'MAIL FROM:<alice@example.test>');
    await cmd(t, 'RCPT TO:<bob@example.test>');
    await sendData(t, message(subject, 2000, '<resend-2@client.test>'), 'glued');
    assert.match(await reply(t), /^250 /);
    t.close();
    assert.equal(await count('bob@example.test', subject), 2);
  });
});
