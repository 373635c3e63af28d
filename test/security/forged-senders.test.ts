/**
 * Issue 14, forged senders, over real SMTP with python's smtplib and nodemailer:
 * - submission: a header From or Sender the logged-in user does not own (own address,
 *   sub-addresses, aliases that reach them, their `send.as` setting) gets `550 5.7.1`
 *   after DATA, and nothing is delivered;
 * - MX: a message from outside claiming one of our domains (MAIL FROM or header From)
 *   must be authenticated for it (SPF, DKIM, DMARC; answers from MAILROOM_SMTP_DNS_FILE)
 *   or is refused with `550 5.7.1`; with `smtp.local_sender_policy = junk` it is filed
 *   into Junk instead.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const CAROL = 'carol@trusted.test';
const PW = 'pw secret';

/** Sends with python's smtplib; returns "ok" or "CODE text" of the refusal. */
function pythonSend(port: number, opts: { login?: boolean; from: string; to: string; message: string }): Promise<string> {
  const script = `
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', ${port}, timeout=20)
s.ehlo('client.example.net')
${opts.login ? `s.login(${JSON.stringify(ALICE)}, ${JSON.stringify(PW)})` : ''}
try:
    s.sendmail(${JSON.stringify(opts.from)}, [${JSON.stringify(opts.to)}], ${JSON.stringify(opts.message)}.encode())
    print('ok')
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPSenderRefused as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
`;
  return new Promise((resolve, reject) => execFile('python3', ['-c', script], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()))));
}

function message(from: string, extra = ''): string {
  return `From: ${from}\r\n${extra}To: ${BOB}\r\nSubject: who am I\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@client.example.net>\r\n\r\nHello.\r\n`;
}

/** How many messages a user's mailbox holds, over IMAP. */
async function count(port: number, user: string, mailbox: string): Promise<number> {
  const t = await connect(port);
  try {
    await t.readLine();
    t.send(`a LOGIN ${user} "${PW}"\r\nb EXAMINE ${mailbox}\r\n`);
    const text = await t.readUntil(/b (OK|NO)[^\r\n]*\r\n/);
    return Number(/\* (\d+) EXISTS/.exec(text)?.[1] ?? -1);
  } finally {
    t.close();
  }
}

async function world(env: Record<string, string>): Promise<RunningTestServer> {
  const { dir, dataDir } = tempDirs();
  const dns = join(dir, 'dns.json');
  writeFileSync(
    dns,
    JSON.stringify({
      'example.test': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] }, // our domain: mail from 127.0.0.1 fails SPF
      '_dmarc.example.test': { TXT: [['v=DMARC1; p=reject']] },
      'trusted.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] }, // also ours, and 127.0.0.1 may send for it
      'remote.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
    }),
  );
  for (const args of [
    ['user', 'add', ALICE, '--password', PW],
    ['user', 'add', BOB, '--password', PW],
    ['user', 'add', CAROL, '--password', PW],
    ['alias', 'add', `sales@example.test`, ALICE],
    ['user', 'set', ALICE, 'send.as=@alice-family.test,boss@elsewhere.test'],
  ]) {
    const r = await runCli(args, { dataDir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  return startServer({ dataDir, env: { MAILROOM_HOSTNAME: 'mx.example.test', MAILROOM_SMTP_DNS_FILE: dns, ...env } });
}

describe('forged senders', () => {
  let server: RunningTestServer;
  let junk: RunningTestServer;
  before(async () => {
    [server, junk] = await Promise.all([world({}), world({ MAILROOM_SMTP_LOCAL_SENDER_POLICY: 'junk' })]);
  });
  after(() => Promise.all([server?.stop(), junk?.stop()]));

  it('submission (python smtplib): a header From or Sender the user does not own is refused with 550 5.7.1 after DATA', { timeout: 60_000 }, async () => {
    const port = server.ports.submission!;
    const before = await count(server.ports.imap!, BOB, 'INBOX');
    const table: [from: string, extra: string, expected: RegExp][] = [
      [BOB, '', /^550 5\.7\.1 Header sender <bob@example\.test> is not yours/],
      [`"Alice" <${ALICE}>, ${BOB}`, '', /^550 5\.7\.1 Header sender <bob@example\.test>/],
      [ALICE, `Sender: ${BOB}\r\n`, /^550 5\.7\.1 Header sender <bob@example\.test>/],
      ['someone@remote.test', '', /^550 5\.7\.1 Header sender <someone@remote\.test>/],
      [`"Alice" <${ALICE}>`, '', /^ok$/],
      ['alice+lists@example.test', '', /^ok$/], // her sub-address
      ['sales@example.test', `Sender: ${ALICE}\r\n`, /^ok$/], // an alias that reaches her
      ['kids@alice-family.test', '', /^ok$/], // send.as=@alice-family.test
      ['Boss <boss@elsewhere.test>', '', /^ok$/], // send.as lists it
      ['other@elsewhere.test', '', /^550 5\.7\.1/],
    ];
    let delivered = 0;
    for (const [from, extra, expected] of table) {
      const got = await pythonSend(port, { login: true, from: ALICE, to: BOB, message: message(from, extra) });
      assert.match(got, expected, `From: ${from} ${extra}`);
      if (got === 'ok') delivered++;
    }
    assert.equal(await count(server.ports.imap!, BOB, 'INBOX'), before + delivered, 'only the accepted ones were delivered');
  });

  it('submission (nodemailer): the same refusal reaches the client as a 550', { timeout: 30_000 }, async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.submission!, secure: false, ignoreTLS: true, auth: { user: ALICE, pass: PW } });
    try {
      await assert.rejects(transport.sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: message(BOB) }), (err: { responseCode?: number; response?: string }) => err.responseCode === 550 && /5\.7\.1/.test(err.response ?? ''));
      const ok = await transport.sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: message(ALICE) });
      assert.match(ok.response, /^250 /);
    } finally {
      transport.close();
    }
  });

  it('MX: a local domain claimed without SPF/DKIM/DMARC for it is refused with 550 5.7.1; an authenticated one and foreign ones are accepted', { timeout: 60_000 }, async () => {
    const port = server.ports.smtp!;
    const before = await count(server.ports.imap!, BOB, 'INBOX');
    const table: [mailFrom: string, from: string, expected: RegExp][] = [
      [ALICE, ALICE, /^550 5\.7\.1 Sender domain example\.test is ours/], // MAIL FROM and From forged
      ['someone@remote.test', ALICE, /^550 5\.7\.1 Sender domain example\.test/], // SPF passes for remote.test, not example.test
      [ALICE, 'someone@remote.test', /^550 5\.7\.1 Sender domain example\.test/],
      ['', ALICE, /^550 5\.7\.1/], // a bounce claiming to be from us
      ['someone@remote.test', 'someone@remote.test', /^ok$/],
      [CAROL, CAROL, /^ok$/], // trusted.test is ours and 127.0.0.1 passes its SPF
    ];
    let delivered = 0;
    for (const [mailFrom, from, expected] of table) {
      const got = await pythonSend(port, { from: mailFrom, to: BOB, message: message(from) });
      assert.match(got, expected, `MAIL FROM:<${mailFrom}> From: ${from}`);
      if (got === 'ok') delivered++;
    }
    assert.equal(await count(server.ports.imap!, BOB, 'INBOX'), before + delivered);
  });

  it('MX with local_sender_policy = junk: the forged message is accepted and filed into Junk, not INBOX', { timeout: 60_000 }, async () => {
    const inbox = await count(junk.ports.imap!, BOB, 'INBOX');
    assert.equal(await pythonSend(junk.ports.smtp!, { from: ALICE, to: BOB, message: message(ALICE) }), 'ok');
    assert.equal(await count(junk.ports.imap!, BOB, 'Junk'), 1);
    assert.equal(await count(junk.ports.imap!, BOB, 'INBOX'), inbox);
    assert.equal(await pythonSend(junk.ports.smtp!, { from: 'x@remote.test', to: BOB, message: message('x@remote.test') }), 'ok');
    assert.equal(await count(junk.ports.imap!, BOB, 'INBOX'), inbox + 1, 'authentic mail still goes to INBOX');
  });
});
