import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { Redactor, createTracer, type TraceDirection, type TraceProtocol } from './trace.js';
import { createLogger } from './logger.js';

type Step = [TraceDirection, string, string]; // direction, line, what may be logged

/** Conversations: each step's expected logged text, and secrets that must appear in no output. */
const conversations: { name: string; protocol: TraceProtocol; steps: Step[]; secrets: string[] }[] = [
  {
    name: 'IMAP LOGIN atom password',
    protocol: 'imap',
    steps: [['C', 'a1 LOGIN alice s3cret', 'a1 LOGIN alice ***'], ['S', 'a1 OK done', 'a1 OK done'], ['C', 'a2 NOOP', 'a2 NOOP']],
    secrets: ['s3cret'],
  },
  {
    name: 'IMAP login, quoted user and password with spaces, lower case',
    protocol: 'imap',
    steps: [['C', 'x login "bob \\"b\\"" "pa ss word"', 'x login "bob \\"b\\"" ***']],
    secrets: ['pa ss word', 'ss word'],
  },
  {
    name: 'IMAP LOGIN with literal password',
    protocol: 'imap',
    steps: [
      ['C', 'a LOGIN alice {6}', 'a LOGIN alice ***'],
      ['S', '+ Ready', '+ Ready'],
      ['C', 'hunter', '***'],
      ['C', 'b NOOP', 'b NOOP'],
    ],
    secrets: ['hunter'],
  },
  {
    name: 'IMAP LOGIN with literal user and literal password (LITERAL+)',
    protocol: 'imap',
    steps: [
      ['C', 'a LOGIN {5+}', 'a LOGIN ***'],
      ['C', 'alice {7+}', '***'],
      ['C', 'letmein', '***'],
      ['C', 'b LIST "" *', 'b LIST "" *'],
    ],
    secrets: ['letmein'],
  },
  {
    name: 'IMAP AUTHENTICATE PLAIN with continuation',
    protocol: 'imap',
    steps: [
      ['C', 'a AUTHENTICATE PLAIN', 'a AUTHENTICATE PLAIN'],
      ['S', '+ ', '+ '],
      ['C', 'AGFsaWNlAHMzY3JldA==', '***'],
      ['S', 'a OK [CAPABILITY IMAP4rev2] done', 'a OK [CAPABILITY IMAP4rev2] done'],
      ['C', 'b SELECT INBOX', 'b SELECT INBOX'],
    ],
    secrets: ['AGFsaWNlAHMzY3JldA=='],
  },
  {
    name: 'IMAP AUTHENTICATE with SASL-IR, then multi-step LOGIN mechanism',
    protocol: 'imap',
    steps: [
      ['C', 'a authenticate plain AGFsaWNlAHMzY3JldA==', 'a authenticate plain ***'],
      ['S', 'a NO [AUTHENTICATIONFAILED] nope', 'a NO [AUTHENTICATIONFAILED] nope'],
      ['C', 'b AUTHENTICATE LOGIN', 'b AUTHENTICATE LOGIN'],
      ['S', '+ VXNlcm5hbWU6', '+ VXNlcm5hbWU6'],
      ['C', 'YWxpY2U=', '***'],
      ['S', '* untagged in between', '* untagged in between'],
      ['S', '+ UGFzc3dvcmQ6', '+ UGFzc3dvcmQ6'],
      ['C', 'czNjcmV0', '***'],
      ['S', 'b OK', 'b OK'],
    ],
    secrets: ['AGFsaWNlAHMzY3JldA==', 'czNjcmV0'],
  },
  {
    name: 'IMAP AUTHENTICATE cancelled',
    protocol: 'imap',
    steps: [['C', 'a AUTHENTICATE PLAIN', 'a AUTHENTICATE PLAIN'], ['S', '+', '+'], ['C', '*', '*'], ['S', 'a BAD cancelled', 'a BAD cancelled'], ['C', 'b NOOP', 'b NOOP']],
    secrets: [],
  },
  {
    name: 'POP3 USER/PASS, APOP',
    protocol: 'pop3',
    steps: [
      ['C', 'USER alice', 'USER alice'],
      ['C', 'PASS my secret words', 'PASS ***'],
      ['S', '+OK maildrop locked', '+OK maildrop locked'],
      ['C', 'apop alice c4c9334bac560ecc979e58001b3e22fb', 'apop alice ***'],
      ['C', 'STAT', 'STAT'],
    ],
    secrets: ['my secret words', 'secret', 'c4c9334bac560ecc979e58001b3e22fb'],
  },
  {
    name: 'POP3 AUTH with initial response and continuation',
    protocol: 'pop3',
    steps: [
      ['C', 'AUTH', 'AUTH'],
      ['S', '+OK', '+OK'],
      ['C', 'AUTH PLAIN AGFsaWNlAHMzY3JldA==', 'AUTH PLAIN ***'],
      ['S', '-ERR [AUTH] no', '-ERR [AUTH] no'],
      ['C', 'AUTH LOGIN', 'AUTH LOGIN'],
      ['S', '+ VXNlcm5hbWU6', '+ VXNlcm5hbWU6'],
      ['C', 'YWxpY2U=', '***'],
      ['S', '+ UGFzc3dvcmQ6', '+ UGFzc3dvcmQ6'],
      ['C', 'czNjcmV0', '***'],
      ['S', '+OK logged in', '+OK logged in'],
      ['C', 'LIST', 'LIST'],
    ],
    secrets: ['AGFsaWNlAHMzY3JldA==', 'czNjcmV0'],
  },
  {
    name: 'SMTP AUTH PLAIN inline and AUTH LOGIN',
    protocol: 'smtp',
    steps: [
      ['C', 'EHLO client.example', 'EHLO client.example'],
      ['S', '250-AUTH PLAIN LOGIN', '250-AUTH PLAIN LOGIN'],
      ['C', 'AUTH PLAIN AGFsaWNlAHMzY3JldA==', 'AUTH PLAIN ***'],
      ['S', '535 5.7.8 no', '535 5.7.8 no'],
      ['C', 'auth login YWxpY2U=', 'auth login ***'],
      ['S', '334 UGFzc3dvcmQ6', '334 UGFzc3dvcmQ6'],
      ['C', 'czNjcmV0', '***'],
      ['S', '235 2.7.0 ok', '235 2.7.0 ok'],
      ['C', 'MAIL FROM:<alice@example.test>', 'MAIL FROM:<alice@example.test>'],
    ],
    secrets: ['AGFsaWNlAHMzY3JldA==', 'czNjcmV0', 'YWxpY2U='],
  },
  {
    name: 'SMTP AUTH LOGIN two steps',
    protocol: 'lmtp',
    steps: [
      ['C', 'AUTH LOGIN', 'AUTH LOGIN'],
      ['S', '334 VXNlcm5hbWU6', '334 VXNlcm5hbWU6'],
      ['C', 'YWxpY2U=', '***'],
      ['S', '334 UGFzc3dvcmQ6', '334 UGFzc3dvcmQ6'],
      ['C', 'czNjcmV0', '***'],
      ['S', '235 ok', '235 ok'],
      ['C', 'QUIT', 'QUIT'],
    ],
    secrets: ['czNjcmV0'],
  },
  {
    name: 'expectSecretContinuation hides exactly the next client line',
    protocol: 'imap',
    steps: [['C', '!secret-next', '***'], ['C', 'a NOOP', 'a NOOP']],
    secrets: [],
  },
];

test('redaction tables: logged text per step, secrets never appear', () => {
  for (const c of conversations) {
    const r = new Redactor(c.protocol);
    const logged: string[] = [];
    for (const [dir, line, want] of c.steps) {
      if (line === '!secret-next') {
        r.expectSecretContinuation();
        const got = r.redact(dir, 'anything at all');
        assert.equal(got, want, c.name);
        continue;
      }
      const got = r.redact(dir, line);
      assert.equal(got, want, `${c.name}: ${line}`);
      logged.push(got);
    }
    for (const secret of c.secrets) assert.ok(!logged.join('\n').includes(secret), `${c.name}: leaked ${secret}`);
  }
});

test('tracer logs redacted JSON lines; disabled tracer logs nothing', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  const log = createLogger({ level: 'info', destination: sink });
  const tracer = createTracer('pop3', log, true);
  tracer.client(Buffer.from('PASS hunter2\r\n'));
  tracer.server('+OK\r\n');
  createTracer('pop3', log, false).client('PASS hunter2');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.equal(first.msg, 'trace');
  assert.equal(first.dir, 'C');
  assert.equal(first.line, 'PASS ***');
  assert.equal(JSON.parse(lines[1]).line, '+OK');
  assert.ok(!lines.join('').includes('hunter2'));
});

const secretArb = fc.stringMatching(/^[A-Za-z0-9!#%&'*+\-/=?^_`|~ ]{1,24}$/).map((s) => `Zq9${s}`);
const userArb = fc.stringMatching(/^[a-y0-8.@]{1,16}$/);

test('IMAP LOGIN never logs a quoted or atom password (property)', () => {
  fc.assert(
    fc.property(userArb, secretArb, fc.boolean(), (user, secret, quoted) => {
      const pass = quoted || secret.includes(' ') ? `"${secret.replace(/["\\]/g, '\\$&')}"` : secret;
      const got = new Redactor('imap').redact('C', `t1 LOGIN ${user} ${pass}`);
      assert.ok(!got.includes('Zq9'), got);
    }),
  );
});

test('after AUTH, client lines stay hidden until the server ends the exchange (property)', () => {
  const protocols: [TraceProtocol, string, string, string][] = [
    ['imap', 'a AUTHENTICATE PLAIN', '+ ', 'a OK'],
    ['pop3', 'AUTH PLAIN', '+ ', '+OK'],
    ['smtp', 'AUTH PLAIN', '334 ', '235 ok'],
  ];
  fc.assert(
    fc.property(fc.constantFrom(...protocols), fc.array(secretArb, { minLength: 1, maxLength: 5 }), ([p, start, cont, end], secrets) => {
      const r = new Redactor(p);
      const out = [r.redact('C', start)];
      for (const s of secrets) out.push(r.redact('S', cont), r.redact('C', s));
      out.push(r.redact('S', end));
      assert.ok(!out.join('\n').includes('Zq9'));
      assert.equal(r.redact('C', 'NOOP'), 'NOOP', 'exchange ended');
    }),
  );
});

test('the redactor never throws on arbitrary lines (property)', () => {
  fc.assert(
    fc.property(fc.constantFrom<TraceProtocol>('imap', 'pop3', 'smtp', 'lmtp'), fc.array(fc.tuple(fc.constantFrom<TraceDirection>('C', 'S'), fc.string())), (p, steps) => {
      const r = new Redactor(p);
      for (const [d, line] of steps) assert.equal(typeof r.redact(d, line), 'string');
    }),
  );
});
