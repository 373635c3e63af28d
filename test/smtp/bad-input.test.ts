// Bad input over a real socket: each case gets its RFC 5321 code and enhanced status
// code; nothing refused is stored, and the session goes on where RFC 5321 says it may.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connect, type Transcript } from '../harness/transcript.js';
import { cmd, reply, startWorld, upgrade, type World } from './setup.js';

describe('SMTP bad input', () => {
  let w: World;
  let port: number;
  before(async () => {
    w = await startWorld({ MAILROOM_SMTP_MAX_MESSAGE_SIZE: '4096', MAILROOM_SMTP_MAX_RECIPIENTS: '3', MAILROOM_SMTP_MAX_ERRORS: '40', MAILROOM_SMTP_TIMEOUT_MS: '3000' });
    port = w.server.ports.smtp!;
  });
  after(() => w.stop());

  const session = async (): Promise<Transcript> => {
    const t = await connect(port);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    return t;
  };
  const count = async (address: string) => (await w.messages(address)).length;

  it('commands out of order, bad addresses and parameters, unknown commands', async () => {
    const t = await connect(port);
    await reply(t);
    const rows: [string, string][] = [
      ['MAIL FROM:<a@remote.test>', '503 5.5.1 Send EHLO/HELO first'],
      ['EHLO', '501 5.5.4 a domain name is required'],
      ['HELO client.test', '250 mx.example.test Hello client.test [127.0.0.1]'],
      ['MAIL FROM:<a@remote.test> SIZE=10', '555 5.5.4 Parameters need EHLO'],
      ['EHLO client.test', ''],
      ['DATA', '503 5.5.1 Need MAIL command first'],
      ['RCPT TO:<alice@example.test>', '503 5.5.1 Need MAIL command first'],
      ['BDAT 0 LAST', '503 5.5.1 Need MAIL command first'],
      ['MAIL FROM:alice@example.test', '501 5.1.7 address must be enclosed in <>'],
      ['MAIL FROM:<a b@remote.test>', '501 5.1.7 bad local part'],
      ['MAIL FROM:<a@remote.test> SIZE=999999', '552 5.3.4 Message size exceeds fixed maximum message size of 4096 bytes'],
      ['MAIL FROM:<a@remote.test> FOO=1', '555 5.5.4 unsupported parameter FOO'],
      ['MAIL FROM:<a@remote.test> NOTIFY=NEVER', '555 5.5.4 unsupported parameter NOTIFY'],
      ['MAIL FROM:<a@remote.test> REQUIRETLS', '555 5.5.4 REQUIRETLS is only offered on TLS sessions'],
      ['MAIL FROM:<jörg@remote.test>', '553 5.6.7 non-ASCII sender address needs SMTPUTF8'],
      ['MAIL FROM:<a@remote.test>', '250 2.1.0 Sender OK'],
      ['MAIL FROM:<a@remote.test>', '503 5.5.1 Sender already specified'],
      ['RCPT TO:<nobody@example.test>', '550 5.1.1 <nobody@example.test>: Recipient address rejected: no such user here'],
      ['RCPT TO:<x@nowhere.test>', '550 5.1.1 <x@nowhere.test>: Recipient address rejected: no such user here'],
      ['RCPT TO:<a b>', '501 5.1.3 expected local@domain'],
      ['RCPT TO:<ü@example.test>', '553 5.6.7 non-ASCII recipient address needs SMTPUTF8'],
      ['DATA', '554 5.5.1 No valid recipients'],
      ['FOO bar', '500 5.5.2 Syntax error, command unrecognized'],
      ['AUTH PLAIN AGFsaWNlAHNlY3JldA==', '500 5.5.2 Syntax error, command unrecognized'],
      ['LHLO client.test', '500 5.5.2 Syntax error, command unrecognized'],
      ['x'.repeat(3000), '500 5.5.2 Line too long'],
      ['RSET x', '501 5.5.4 RSET takes no arguments'],
      ['RSET', '250 2.0.0 Flushed'],
      ['VRFY alice', '252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery'],
      ['EXPN sales', '502 5.5.1 EXPN is not available'],
      ['NOOP', '250 2.0.0 OK'],
    ];
    for (const [line, want] of rows) {
      const got = await cmd(t, line);
      if (want) assert.equal(got, `${want}\r\n`, line.slice(0, 60));
    }
    assert.equal(await cmd(t, 'QUIT'), '221 2.0.0 mx.example.test closing connection\r\n');
    await t.closed;
  });

  it('too many recipients: 452 4.5.3 past RCPTMAX, the accepted ones still get the message', async () => {
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    for (const r of ['alice', 'bob', 'sales']) assert.match(await cmd(t, `RCPT TO:<${r}@example.test>`), /^250 /);
    assert.equal(await cmd(t, 'RCPT TO:<carol@other.test>'), '452 4.5.3 Too many recipients\r\n');
    await cmd(t, 'DATA');
    assert.match(await cmd(t, 'Subject: many\r\n\r\nx\r\n.'), /^250 2\.0\.0 /);
    assert.equal((await w.messages('carol@other.test')).filter((m) => m.text.includes('Subject: many')).length, 0);
    assert.equal((await w.messages('bob@example.test')).filter((m) => m.text.includes('Subject: many')).length, 1);
    t.close();
  });

  it('oversize DATA: 552 5.3.4 after the end, nothing stored, the session goes on', async () => {
    const before = await count('alice@example.test');
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'DATA');
    const big = `Subject: big\r\n\r\n${'0123456789012345678901234567890123456789\r\n'.repeat(200)}.`;
    assert.equal(await cmd(t, big), '552 5.3.4 Message size exceeds fixed maximum message size of 4096 bytes\r\n');
    assert.equal(await cmd(t, 'NOOP'), '250 2.0.0 OK\r\n');
    assert.equal(await count('alice@example.test'), before);
    t.close();
  });

  it('oversize BDAT: 552 5.3.4, later chunks 503 5.5.1 until RSET; nothing stored', async () => {
    const before = await count('alice@example.test');
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    t.send('BDAT 5000\r\n' + 'x'.repeat(5000));
    assert.equal(await reply(t), '552 5.3.4 Message size exceeds fixed maximum message size of 4096 bytes\r\n');
    t.send('BDAT 3 LAST\r\nabc');
    assert.equal(await reply(t), '503 5.5.1 Earlier chunk failed; send RSET\r\n');
    assert.equal(await cmd(t, 'RSET'), '250 2.0.0 Flushed\r\n');
    assert.equal(await cmd(t, 'NOOP'), '250 2.0.0 OK\r\n');
    assert.equal(await count('alice@example.test'), before);
    t.close();
  });

  it('DATA after BODY=BINARYMIME, and DATA after BDAT, are refused', async () => {
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test> BODY=BINARYMIME');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    assert.equal(await cmd(t, 'DATA'), '503 5.5.1 BODY=BINARYMIME requires BDAT\r\n');
    t.send('BDAT 2\r\nab');
    assert.equal(await reply(t), '250 2.0.0 2 octets received\r\n');
    assert.equal(await cmd(t, 'DATA'), '503 5.5.1 DATA not allowed after BDAT\r\n');
    t.close();
  });

  const refused: [string, string, string][] = [
    ['a NUL byte', 'Subject: nul\r\n\r\na\0b\r\n.', '554 5.6.0 Message contains NUL bytes; send it with BDAT and BODY=BINARYMIME'],
    ['a line over 998 octets', `Subject: long\r\n\r\n${'y'.repeat(1200)}\r\n.`, '554 5.6.0 Message has a line longer than 998 octets (RFC 5321 4.5.3.1.6)'],
  ];
  for (const [what, text, want] of refused) {
    it(`${what}: refused after the end of data, nothing stored`, async () => {
      const before = await count('alice@example.test');
      const t = await session();
      await cmd(t, 'MAIL FROM:<a@remote.test>');
      await cmd(t, 'RCPT TO:<alice@example.test>');
      await cmd(t, 'DATA');
      assert.equal(await cmd(t, text), `${want}\r\n`);
      assert.equal(await count('alice@example.test'), before);
      t.close();
    });
  }

  it('bare LF: "\\n.\\n" does not end DATA; bare LFs are stored as CRLF', async () => {
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<bob@example.test>');
    await cmd(t, 'DATA');
    t.send('Subject: bare lf\nX: 1\n\nline one\n.\nMAIL FROM:<smuggled@evil.test>\nstill body\r\n.\r\n');
    assert.match(await reply(t), /^250 2\.0\.0 /);
    const [m] = (await w.messages('bob@example.test')).filter((x) => x.text.includes('Subject: bare lf'));
    assert.ok(m.text.endsWith('Subject: bare lf\r\nX: 1\r\n\r\nline one\r\n\r\nMAIL FROM:<smuggled@evil.test>\r\nstill body\r\n'), JSON.stringify(m.text.slice(-120)));
    t.close();
  });

  it('a client that vanishes mid-DATA leaves nothing stored', async () => {
    const before = await count('alice@example.test');
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'DATA');
    t.send('Subject: cut\r\n\r\nhalf a mess');
    t.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count('alice@example.test'), before);
  });

  it('slow sender: 421 4.4.2 after the timeout, mid-DATA too, nothing stored', async () => {
    const before = await count('alice@example.test');
    const idle = await session();
    assert.equal(await idle.readToEnd(15_000), '421 4.4.2 mx.example.test Timeout, closing connection\r\n');
    const t = await session();
    await cmd(t, 'MAIL FROM:<a@remote.test>');
    await cmd(t, 'RCPT TO:<alice@example.test>');
    await cmd(t, 'DATA');
    t.send('Subject: slow\r\n\r\nand then nothing');
    assert.equal(await t.readToEnd(15_000), '421 4.4.2 mx.example.test Timeout, closing connection\r\n');
    assert.equal(await count('alice@example.test'), before);
  });
});

describe('SMTP error budget', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ MAILROOM_SMTP_MAX_ERRORS: '3' });
  });
  after(() => w.stop());

  it('after max_errors error replies: 421 4.7.0 and close', async () => {
    const t = await connect(w.server.ports.smtp!);
    await reply(t);
    for (let i = 0; i < 3; i++) assert.match(await cmd(t, 'BOGUS'), /^500 5\.5\.2 /);
    t.send('NOOP\r\n');
    assert.equal(await t.readToEnd(10_000), '421 4.7.0 mx.example.test Too many errors, closing connection\r\n');
  });
});

describe('SMTP fuzz and shutdown', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ MAILROOM_SMTP_MAX_ERRORS: '1000' });
  });
  after(() => w.stop());

  it('random command lines never break the session: a final NOOP is still answered 250', async () => {
    const verb = fc.constantFrom('EHLO', 'HELO', 'MAIL FROM:', 'RCPT TO:', 'RSET', 'NOOP', 'VRFY', 'HELP', 'mail from:', 'XYZ', '');
    const arg = fc.oneof(fc.constantFrom('<a@b.test>', '<>', '<alice@example.test>', 'SIZE=1', 'BODY=BINARYMIME', 'SMTPUTF8', 'NOTIFY=SUCCESS', '<"x y"@z>', '<ü@example.test>'), fc.string({ maxLength: 12 }).map((x) => x.replace(/[\r\n]/g, '')));
    const line = fc.tuple(verb, fc.array(arg, { maxLength: 3 })).map(([v, a]) => [v, ...a].join(' '));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 15 }), async (lines) => {
        const t = await connect(w.server.ports.smtp!);
        try {
          await reply(t);
          t.send(lines.map((l) => `${l}\r\n`).join(''));
          for (let i = 0; i < lines.length; i++) assert.match(await reply(t), /^[2-5]\d\d[ -]/);
          assert.equal(await cmd(t, 'NOOP'), '250 2.0.0 OK\r\n');
        } finally {
          t.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('shutdown: an idle session is told 421 4.3.2 and closed', async () => {
    const t = await connect(w.server.ports.smtp!);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    const stopping = w.server.stop();
    assert.equal(await t.readToEnd(15_000), '421 4.3.2 mx.example.test Server shutting down\r\n');
    assert.equal((await stopping).code, 0);
  });
});

describe('SMTP connection limit', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ MAILROOM_LIMITS_CONNECTIONS_PER_IP: '2' });
  });
  after(() => w.stop());

  it('sessions closed after STARTTLS free their slot; over the limit: 421 4.7.0', async () => {
    for (let i = 0; i < 3; i++) {
      const t = await connect(w.server.ports.smtp!);
      await reply(t);
      await cmd(t, 'EHLO client.test');
      await cmd(t, 'STARTTLS');
      const s = await upgrade(t);
      assert.equal(await cmd(s, 'QUIT'), '221 2.0.0 mx.example.test closing connection\r\n');
      await t.closed;
    }
    await new Promise((r) => setTimeout(r, 200));
    const a = await connect(w.server.ports.smtp!);
    const b = await connect(w.server.ports.smtp!);
    assert.match(await reply(a), /^220 /);
    assert.match(await reply(b), /^220 /);
    const c = await connect(w.server.ports.smtp!);
    assert.equal(await c.readToEnd(), '421 4.7.0 Mailroom: too many connections from your address\r\n');
    a.close();
    b.close();
  });
});
