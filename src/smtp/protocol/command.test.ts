import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeXtext, parseBdat, parseBurl, parseHello, parseMailFrom, parseRcptTo, splitCommand, SmtpSyntaxError } from './command.js';

const fails = (fn: () => unknown, code: number, enhanced: string, text?: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof SmtpSyntaxError && e.code === code && e.enhanced === enhanced && (!text || text.test(e.message)));

describe('splitCommand', () => {
  const rows: [string, string, string][] = [
    ['EHLO client.test', 'EHLO', 'client.test'],
    ['mail FROM:<a@b.test>', 'MAIL', 'FROM:<a@b.test>'],
    ['QUIT', 'QUIT', ''],
    ['DATA  ', 'DATA', ''],
    ['1234', '', '1234'],
  ];
  for (const [line, verb, args] of rows) it(JSON.stringify(line), () => assert.deepEqual(splitCommand(line), { verb, args }));
});

describe('MAIL FROM', () => {
  const good: [string, Record<string, unknown>][] = [
    ['FROM:<alice@example.test>', { address: 'alice@example.test' }],
    ['from:<alice@example.test>', { address: 'alice@example.test' }],
    ['FROM: <alice@example.test>', { address: 'alice@example.test' }],
    ['FROM:<>', { address: '' }],
    ['FROM:<@relay.test,@other.test:alice@example.test>', { address: 'alice@example.test' }],
    ['FROM:<"alice"@example.test>', { address: 'alice@example.test' }],
    ['FROM:<"a b"@example.test>', { address: '"a b"@example.test' }],
    ['FROM:<x@[192.0.2.1]>', { address: 'x@[192.0.2.1]' }],
    ['FROM:<a@b.test> SIZE=1000', { size: 1000 }],
    ['FROM:<a@b.test> BODY=8bitmime', { body: '8BITMIME' }],
    ['FROM:<a@b.test> BODY=BINARYMIME', { body: 'BINARYMIME' }],
    ['FROM:<a@b.test> SMTPUTF8', { smtputf8: true }],
    ['FROM:<a@b.test> REQUIRETLS', { requireTls: true }],
    ['FROM:<a@b.test> RET=HDRS ENVID=QQ+2B1', { ret: 'HDRS', envid: 'QQ+1' }],
    ['FROM:<a@b.test> AUTH=<>', { auth: '<>' }],
    ['FROM:<jörg@bücher.test> SMTPUTF8', { address: 'jörg@bücher.test', utf8: true }],
  ];
  for (const [args, want] of good) {
    it(`accepts ${args}`, () => {
      const m = parseMailFrom(args);
      const flat = { ...m, ...m.sender };
      for (const [k, v] of Object.entries(want)) assert.deepEqual((flat as Record<string, unknown>)[k], v, k);
    });
  }
  const bad: [string, number, string, RegExp][] = [
    ['<a@b.test>', 501, '5.5.4', /MAIL FROM/],
    ['FROM:a@b.test', 501, '5.1.7', /enclosed/],
    ['FROM:<a@b.test', 501, '5.1.7', /missing >/],
    ['FROM:<a@b.test>SIZE=1', 501, '5.1.7', /space/],
    ['FROM:<alice>', 501, '5.1.7', /local@domain/],
    ['FROM:<a..b@c.test>', 501, '5.1.7', /local part/],
    ['FROM:<a@-bad.test>', 501, '5.1.7', /domain/],
    [`FROM:<${'a'.repeat(65)}@b.test>`, 501, '5.1.7', /64/],
    ['FROM:<a@b.test> SIZE=big', 501, '5.5.4', /SIZE/],
    ['FROM:<a@b.test> BODY=9BIT', 501, '5.5.4', /BODY/],
    ['FROM:<a@b.test> FOO=bar', 555, '5.5.4', /FOO/],
    ['FROM:<a@b.test> XYZ', 555, '5.5.4', /XYZ/],
    ['FROM:<a@b.test> SIZE=1 SIZE=2', 501, '5.5.4', /duplicate/],
    ['FROM:<a@b.test> SMTPUTF8=yes', 501, '5.5.4', /no value/],
    ['FROM:<a@b.test> ENVID=a+zz', 501, '5.5.4', /xtext/],
    ['FROM:<jörg@b.test>', 553, '5.6.7', /SMTPUTF8/],
  ];
  for (const [args, code, enhanced, text] of bad) it(`refuses ${args}`, () => fails(() => parseMailFrom(args), code, enhanced, text));
});

describe('RCPT TO', () => {
  it('accepts a plain address', () => assert.equal(parseRcptTo('TO:<bob+tag@example.test>', false).recipient.address, 'bob+tag@example.test'));
  it('accepts <Postmaster> without a domain', () => assert.equal(parseRcptTo('TO:<Postmaster>', false).recipient.domain, ''));
  it('parses NOTIFY and ORCPT', () => {
    const r = parseRcptTo('TO:<a@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.test', false);
    assert.deepEqual(r.notify, ['SUCCESS', 'FAILURE']);
    assert.deepEqual(r.orcpt, { type: 'rfc822', address: 'a@b.test' });
  });
  it('accepts NOTIFY=NEVER alone', () => assert.equal(parseRcptTo('TO:<a@b.test> NOTIFY=NEVER', false).notify, 'NEVER'));
  const bad: [string, boolean, number, string][] = [
    ['<a@b.test>', false, 501, '5.5.4'],
    ['TO:<>', false, 501, '5.1.3'],
    ['TO:<a b@c.test>', false, 501, '5.1.3'],
    ['TO:<a@b.test> NOTIFY=NEVER,SUCCESS', false, 501, '5.5.4'],
    ['TO:<a@b.test> ORCPT=nosemicolon', false, 501, '5.5.4'],
    ['TO:<a@b.test> SIZE=1', false, 555, '5.5.4'],
    ['TO:<ü@b.test>', false, 553, '5.6.7'],
  ];
  for (const [args, utf8, code, enhanced] of bad) it(`refuses ${args}`, () => fails(() => parseRcptTo(args, utf8), code, enhanced));
  it('accepts UTF-8 with SMTPUTF8', () => assert.equal(parseRcptTo('TO:<ü@b.test>', true).recipient.utf8, true));
});

describe('BDAT, HELO, xtext', () => {
  it('BDAT size', () => assert.deepEqual(parseBdat('100'), { size: 100, last: false }));
  it('BDAT size LAST', () => assert.deepEqual(parseBdat('0 last'), { size: 0, last: true }));
  for (const bad of ['', 'x', '-1', '1 2', '1 LASTX']) it(`BDAT refuses ${JSON.stringify(bad)}`, () => fails(() => parseBdat(bad), 501, '5.5.4'));
  it('HELO takes the first word', () => assert.equal(parseHello('client.test extra'), 'client.test'));
  it('HELO needs a name', () => fails(() => parseHello(''), 501, '5.5.4'));
  it('xtext', () => assert.equal(decodeXtext('a+2Bb+3D'), 'a+b='));
});

describe('fuzz', () => {
  it('never throws anything but SmtpSyntaxError', () => {
    const words = fc.constantFrom('FROM:', 'TO:', '<', '>', '@', 'a', '.', '"', '\\', ' ', 'SIZE=', '9', 'BODY=', 'NOTIFY=', 'ORCPT=', ';', '+', '=', 'ü', '[', ']', ',', ':');
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string({ maxLength: 4 })), { maxLength: 30 }), fc.boolean(), (parts, utf8) => {
        const text = parts.join('');
        for (const fn of [() => parseMailFrom(text), () => parseRcptTo(text, utf8), () => parseBdat(text), () => parseHello(text), () => splitCommand(text)]) {
          try {
            fn();
          } catch (e) {
            assert.ok(e instanceof SmtpSyntaxError, String(e));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
  it('round-trips generated mailboxes', () => {
    const atom = fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}$/);
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.array(atom, { minLength: 1, maxLength: 3 }), fc.array(label, { minLength: 1, maxLength: 3 }), (locals, labels) => {
        const address = `${locals.join('.')}@${labels.join('.')}`;
        fc.pre(locals.join('.').length <= 64);
        assert.equal(parseMailFrom(`FROM:<${address}>`).sender.address, address);
        assert.equal(parseRcptTo(`TO:<${address}>`, false).recipient.address, address);
      }),
    );
  });
});

describe('BURL', () => {
  const url = 'imap://a%40b.test@h/Drafts/;UID=5;URLAUTH=submit+a%40b.test:internal:0123456789abcdef0123456789abcdef';
  it('accepts a URL with and without LAST (any case), trailing spaces', () => {
    assert.deepEqual(parseBurl(url), { url, last: false });
    assert.deepEqual(parseBurl(`${url} LAST`), { url, last: true });
    assert.deepEqual(parseBurl(`${url}  last  `), { url, last: true });
    assert.deepEqual(parseBurl('https://example.com/x'), { url: 'https://example.com/x', last: false });
  });
  it('refuses no URL, a relative one, spaces or controls inside, other words after it', () => {
    for (const bad of ['', 'LAST', '/INBOX/;UID=1', `${url} NOW`, `${url} LAST x`, 'imap://a b', 'imap://a\u0001b', ':x']) fails(() => parseBurl(bad), 501, '5.5.4');
  });
  it('property: any argument gives a URL or 501 5.5.4, and a URL is printable ASCII found in the argument', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom(url, `${url} LAST`).chain((u) => fc.string().map((x) => u + x))), (args) => {
      try {
        const got = parseBurl(args);
        assert.ok(args.startsWith(got.url));
        assert.match(got.url, /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/);
      } catch (e) {
        assert.ok(e instanceof SmtpSyntaxError && e.code === 501 && e.enhanced === '5.5.4');
      }
    }), { numRuns: 2000 });
  });
});
