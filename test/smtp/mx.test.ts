// Inbound MX end to end: exact EHLO transcripts, STARTTLS, delivery to users, aliases,
// catch-all and sub-addresses through nodemailer, python3 smtplib, swaks and curl,
// trace fields and Authentication-Results verified against a fake DNS (no network).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { dkimSign } from 'mailauth';
import { connect } from '../harness/transcript.js';
import { cmd, reply, startWorld, upgrade, type World } from './setup.js';

const run = promisify(execFile);
const EHLO_PLAIN = [
  '250-mx.example.test Hello client.test [127.0.0.1]',
  '250-PIPELINING',
  '250-SIZE 52428800',
  '250-8BITMIME',
  '250-SMTPUTF8',
  '250-ENHANCEDSTATUSCODES',
  '250-CHUNKING',
  '250-BINARYMIME',
  '250-LIMITS RCPTMAX=100',
  '250-DSN',
  '250 STARTTLS',
].join('\r\n') + '\r\n';

describe('SMTP MX', () => {
  let w: World;
  let port: number;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  before(async () => {
    const { dir } = await import('../harness/server.js').then((m) => m.tempDirs());
    const dnsFile = join(dir, 'dns.json');
    const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    writeFileSync(
      dnsFile,
      JSON.stringify({
        'remote.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
        'sel._domainkey.remote.test': { TXT: [[`v=DKIM1; k=rsa; p=${p}`]] },
        '_dmarc.remote.test': { TXT: [['v=DMARC1; p=reject']] },
        'spoof.test': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
        'example.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] }, // ours: a local sender from 127.0.0.1 passes SPF (the DSN test)
      }),
    );
    w = await startWorld({ MAILROOM_SMTP_DNS_FILE: dnsFile });
    port = w.server.ports.smtp!;
  });
  after(() => w.stop());

  it('greets and lists exactly what works in EHLO; STARTTLS adds REQUIRETLS and drops pipelined bytes', async () => {
    const t = await connect(port);
    assert.equal(await reply(t), '220 mx.example.test ESMTP Mailroom ready\r\n');
    assert.equal(await cmd(t, 'EHLO client.test'), EHLO_PLAIN);
    // RFC 3207 4.2: NOOP sent in the same packet as STARTTLS must never be answered.
    t.send('STARTTLS\r\nNOOP\r\n');
    assert.equal(await reply(t), '220 2.0.0 Ready to start TLS\r\n');
    const secure = await upgrade(t);
    const afterTls = await cmd(secure, 'EHLO client.test');
    assert.equal(afterTls, EHLO_PLAIN.replace('250 STARTTLS', '250 REQUIRETLS'));
    assert.equal(await cmd(secure, 'MAIL FROM:<x@remote.test> REQUIRETLS'), '250 2.1.0 Sender OK\r\n');
    assert.equal(await cmd(secure, 'RCPT TO:<alice@example.test>'), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await cmd(secure, 'QUIT'), '221 2.0.0 mx.example.test closing connection\r\n');
  });

  it('nodemailer: DKIM-signed mail to a user gets Return-Path, Received and a passing Authentication-Results', async () => {
    const raw = 'From: Sender <news@remote.test>\r\nTo: alice@example.test\r\nSubject: signed\r\nMessage-ID: <signed@remote.test>\r\n\r\nSigned body.\r\n';
    const { signatures } = await dkimSign(raw, { signatureData: [{ signingDomain: 'remote.test', selector: 'sel', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }] } as never);
    assert.match(signatures, /^DKIM-Signature: /);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, tls: { rejectUnauthorized: false }, name: 'client.test' });
    const info = await transport.sendMail({ envelope: { from: 'news@remote.test', to: ['alice@example.test'] }, raw: signatures + raw });
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as /);
    const [m] = (await w.messages('alice@example.test')).filter((x) => x.text.includes('Subject: signed'));
    assert.match(m.text, /^Return-Path: <news@remote\.test>\r\n/);
    assert.match(m.text, /Authentication-Results: mx\.example\.test;[\s\S]*dkim=pass[\s\S]*spf=pass[\s\S]*dmarc=pass/);
    assert.match(m.text, /Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(Mailroom\) with ESMTPS id \S+\r\n\tfor <alice@example\.test>;\r\n\t\w{3}, /);
    assert.ok(m.text.endsWith(signatures + raw), 'the original bytes follow the added fields unchanged');
  });

  it('a forged sender fails SPF and DMARC in the header (and is still delivered)', async () => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    await cmd(t, 'MAIL FROM:<ceo@spoof.test>');
    await cmd(t, 'RCPT TO:<bob@example.test>');
    assert.equal(await cmd(t, 'DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
    assert.match(await cmd(t, 'From: ceo@spoof.test\r\nSubject: forged\r\n\r\nPay now.\r\n.'), /^250 2\.0\.0 /);
    const [m] = (await w.messages('bob@example.test')).filter((x) => x.text.includes('Subject: forged'));
    assert.match(m.text, /spf=fail/);
    assert.match(m.text, /dkim=none/);
    t.close();
  });

  it('python3 smtplib: an alias reaches both users, one copy each', async () => {
    const script = `import smtplib\ns=smtplib.SMTP('127.0.0.1', ${port})\ns.sendmail('a@remote.test', ['sales@example.test'], b'Subject: to sales\\r\\n\\r\\nhi\\r\\n')\ns.quit()`;
    await run('python3', ['-c', script]);
    for (const u of ['alice@example.test', 'bob@example.test']) {
      const got = (await w.messages(u)).filter((x) => x.text.includes('Subject: to sales'));
      assert.equal(got.length, 1, u);
    }
  });

  it('swaks: the catch-all takes unknown local parts of its domain', async () => {
    const { stdout } = await run('swaks', ['--server', '127.0.0.1', '--port', String(port), '--from', 'a@remote.test', '--to', 'whoever@other.test', '--header', 'Subject: via swaks', '--body', 'catch me']);
    assert.match(stdout, /<- +250 2\.0\.0 Ok: queued as/);
    assert.equal((await w.messages('carol@other.test')).filter((x) => x.text.includes('Subject: via swaks')).length, 1);
  });

  it('curl smtp://: a sub-address goes to its user', async () => {
    const file = join(w.dir, 'curl.eml');
    writeFileSync(file, 'Subject: via curl\r\n\r\nplus addressing\r\n');
    await run('curl', ['-sS', `smtp://127.0.0.1:${port}`, '--mail-from', 'a@remote.test', '--mail-rcpt', 'bob+lists@example.test', '-T', file]);
    assert.equal((await w.messages('bob@example.test')).filter((x) => x.text.includes('Subject: via curl')).length, 1);
  });

  it('BDAT with BINARYMIME stores the bytes untouched (NUL, bare LF); pipelined chunks', async () => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    const body = Buffer.concat([Buffer.from('Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'), Buffer.from([0, 1, 10, 13, 0xff, 46, 13, 10])]);
    const a = body.subarray(0, 30);
    const b = body.subarray(30);
    t.send(`MAIL FROM:<a@remote.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.test>\r\nBDAT ${a.length}\r\n`);
    t.send(a);
    t.send(`BDAT ${b.length} LAST\r\n`);
    t.send(b);
    assert.equal(await reply(t), '250 2.1.0 Sender OK\r\n');
    assert.equal(await reply(t), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await reply(t), `250 2.0.0 ${a.length} octets received\r\n`);
    assert.match(await reply(t), /^250 2\.0\.0 Ok: queued as /);
    const [m] = (await w.messages('alice@example.test')).filter((x) => x.text.includes('Subject: binary'));
    assert.deepEqual(m.raw.subarray(m.raw.length - body.length), body, 'NUL, bare LF, bare CR and 8-bit bytes kept exactly');
    t.close();
  });

  it('SMTPUTF8: UTF-8 sender accepted, unknown UTF-8 recipient is 550 5.1.1, Received says UTF8SMTP', async () => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    assert.equal(await cmd(t, 'MAIL FROM:<jörg@bücher.test> SMTPUTF8'), '250 2.1.0 Sender OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<ü@example.test>'), '550 5.1.1 <ü@example.test>: Recipient address rejected: no such user here\r\n');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'DATA');
    assert.match(await cmd(t, 'From: jörg@bücher.test\r\nSubject: Grüße\r\n\r\nHallo\r\n.'), /^250 /);
    const [m] = (await w.messages('alice@example.test')).filter((x) => x.text.includes('Subject: Grüße'));
    assert.match(m.text, /with UTF8SMTP id/);
    assert.match(m.text, /^Return-Path: <jörg@bücher\.test>/);
    t.close();
  });

  it('over quota at RCPT: 452 4.2.2, nothing stored', async () => {
    const bob = (await w.store.getUser('bob@example.test'))!;
    const usage = await w.store.getQuota(bob.id);
    await w.store.setQuota(bob.id, { bytes: usage.usedBytes, messages: null });
    try {
      const t = await connect(port);
      await reply(t);
      await cmd(t, 'EHLO client.test');
      await cmd(t, 'MAIL FROM:<a@remote.test> SIZE=100');
      assert.equal(await cmd(t, 'RCPT TO:<bob@example.test>'), '452 4.2.2 <bob@example.test>: Mailbox full\r\n');
      assert.equal(await cmd(t, 'DATA'), '554 5.5.1 No valid recipients\r\n');
      t.close();
      assert.equal((await w.store.getQuota(bob.id)).usedBytes, usage.usedBytes);
    } finally {
      await w.store.setQuota(bob.id, { bytes: null, messages: null });
    }
  });

  it('DSN: NOTIFY=SUCCESS brings a "delivered" report (RFC 3464) to a local sender; NOTIFY=NEVER does not', async () => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    assert.equal(await cmd(t, 'MAIL FROM:<bob@example.test> RET=HDRS ENVID=env+2B1'), '250 2.1.0 Sender OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice+40example.test'), '250 2.1.5 Recipient OK\r\n');
    assert.equal(await cmd(t, 'RCPT TO:<carol@other.test> NOTIFY=NEVER'), '250 2.1.5 Recipient OK\r\n');
    await cmd(t, 'DATA');
    assert.match(await cmd(t, 'Subject: with dsn\r\n\r\nsecret body\r\n.'), /^250 2\.0\.0 /);
    t.close();
    const reports = (await w.messages('bob@example.test')).filter((m) => m.text.includes('Successful Mail Delivery Report'));
    assert.equal(reports.length, 1);
    const r = reports[0].text;
    assert.match(r, /^Return-Path: <>\r\n/m);
    assert.match(r, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(r, /Original-Envelope-Id: env\+1\r\n/);
    assert.match(r, /Original-Recipient: rfc822;alice@example\.test\r\nFinal-Recipient: rfc822; alice@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0/);
    assert.doesNotMatch(r, /carol@other\.test>?\r\nAction/, 'NOTIFY=NEVER is not reported');
    assert.match(r, /Content-Type: text\/rfc822-headers/);
    assert.doesNotMatch(r, /secret body/, 'RET=HDRS returns only the header');
  });

  it('RFC 8601 5: a forged Authentication-Results with our authserv-id is renamed; others are kept', async () => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    await cmd(t, 'MAIL FROM:<x@spoof.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'DATA');
    const forged = 'Authentication-Results: mx.example.test;\r\n dkim=pass header.d=bank.test\r\nAuthentication-Results: relay.other.test; spf=pass\r\nSubject: forged results\r\n\r\nbody\r\n.';
    assert.match(await cmd(t, forged), /^250 /);
    t.close();
    const [m] = (await w.messages('alice@example.test')).filter((x) => x.text.includes('Subject: forged results'));
    assert.match(m.text, /\r\nX-Forged-Authentication-Results: mx\.example\.test;\r\n dkim=pass header\.d=bank\.test\r\n/);
    assert.match(m.text, /\r\nAuthentication-Results: relay\.other\.test; spf=pass\r\n/);
    assert.equal(m.text.match(/^Authentication-Results: mx\.example\.test;/gm)?.length, 1, 'only ours');
  });
});
