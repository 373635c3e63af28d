import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAuthUrl, parseDateTime, type AuthUrl } from './auth-url.js';

const BASE = 'imap://joe@example.com/INBOX/;uid=20/;section=1.2';

test('rumps and full URLs: access, expiry, mechanism, token; the rump is the text as given', () => {
  const rows: [string, Partial<AuthUrl>][] = [
    [`${BASE};urlauth=submit+fred`, { rump: `${BASE};urlauth=submit+fred`, access: { kind: 'submit', user: 'fred' } }],
    [`${BASE};URLAUTH=user+ann%40example.test`, { access: { kind: 'user', user: 'ann@example.test' } }],
    [`${BASE};URLAUTH=AuthUser`, { access: { kind: 'authuser' } }],
    [`${BASE};urlauth=anonymous:internal:91354a473744909de610943775f92038`, {
      rump: `${BASE};urlauth=anonymous`, access: { kind: 'anonymous' }, mechanism: 'internal', token: '91354a473744909de610943775f92038',
    }],
    [`${BASE};EXPIRE=2030-01-02T03:04:05Z;URLAUTH=authuser`, { rump: `${BASE};EXPIRE=2030-01-02T03:04:05Z;URLAUTH=authuser`, expire: new Date('2030-01-02T03:04:05Z') }],
    ['imap://harry@gryffindor.example.com/outbox;uidvalidity=1078863300/;uid=25;urlauth=submit+harry:internal:91354a473744909de610943775f92038', {
      target: { user: 'harry', mailbox: 'outbox', uidValidity: 1078863300, uid: 25 },
    }],
  ];
  for (const [text, want] of rows) {
    const got = parseAuthUrl(text);
    assert.ok(got, text);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof AuthUrl], v, `${text}: ${k}`);
  }
  assert.deepEqual(parseAuthUrl(`${BASE};urlauth=submit+fred`)!.target, { user: 'joe', mailbox: 'INBOX', uid: 20, section: { part: [1, 2], text: undefined } });
});

test('refused: no owner, no host, whole mailbox, two URLAUTHs, bad access, mechanism, token or expiry', () => {
  const bad = [
    'imap://joe@example.com/INBOX/;uid=20/;section=1.2', // RFC 4467 7 "missing access identifier"
    'imap://example.com/Shared/;uid=20/;section=1.2;urlauth=submit+fred', // "missing owner username"
    'imap://joe@/INBOX/;uid=20;urlauth=anonymous',
    'imap://joe@example.com/INBOX;urlauth=anonymous', // RFC 4467 3: not for a whole mailbox
    'imap://joe@example.com/;urlauth=anonymous',
    '/INBOX/;uid=1;urlauth=anonymous',
    ';uid=1;urlauth=anonymous',
    `${BASE};urlauth=anonymous;urlauth=anonymous`,
    `${BASE};urlauth=someone`,
    `${BASE};urlauth=submit+`,
    `${BASE};urlauth=user+a%zz`,
    `${BASE};urlauth=user+a/b`,
    `${BASE};urlauth=anonymous:internal`,
    `${BASE};urlauth=anonymous:internal:1234`, // fewer than 32 hex digits
    `${BASE};urlauth=anonymous:internal:91354a473744909de610943775f9203g`,
    `${BASE};urlauth=anonymous:in ternal:91354a473744909de610943775f92038`,
    `${BASE};urlauth=anonymous:internal:91354a473744909de610943775f92038:x`,
    `${BASE};expire=2030-13-01T00:00:00Z;urlauth=anonymous`,
    `${BASE};expire=2030-02-30T00:00:00Z;urlauth=anonymous`,
    `${BASE};expire=tomorrow;urlauth=anonymous`,
    `${BASE};expire=2030-01-01T00:00:00;urlauth=anonymous`, // a zone is mandatory
    `${BASE}?x;urlauth=anonymous`,
  ];
  for (const text of bad) assert.equal(parseAuthUrl(text), null, text);
});

test('RFC 3339 date-time: zones, fractions, leap second', () => {
  assert.equal(parseDateTime('2030-01-02T03:04:05+01:30')!.toISOString(), '2030-01-02T01:34:05.000Z');
  assert.equal(parseDateTime('2030-01-02t03:04:05.25z')!.toISOString(), '2030-01-02T03:04:05.250Z');
  assert.equal(parseDateTime('2016-12-31T23:59:60Z')!.toISOString(), '2017-01-01T00:00:00.000Z');
  assert.equal(parseDateTime('2030-01-02T24:00:00Z'), null);
  assert.equal(parseDateTime('2030-01-02T03:04:05+24:00'), null);
});

const encUser = fc.stringMatching(/^[a-z0-9._~!$'()*+,&=-]{1,12}$/);
const access = fc.oneof(
  fc.constant('anonymous'), fc.constant('authuser'),
  encUser.map((u) => `submit+${u}`), encUser.map((u) => `user+${u}`),
);

test('property: built URLs parse back to their parts; the rump is a prefix that ends with the access', () => {
  fc.assert(fc.property(
    encUser, fc.stringMatching(/^[A-Za-z0-9]{1,10}$/), fc.integer({ min: 1, max: 0xffffffff }), access,
    fc.option(fc.date({ min: new Date(0), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }), { nil: undefined }),
    fc.option(fc.stringMatching(/^[0-9a-f]{32,64}$/), { nil: undefined }),
    (user, mailbox, uid, acc, expire, token) => {
      const exp = expire ? `;EXPIRE=${expire.toISOString()}` : '';
      const rump = `imap://${user}@host.example/${mailbox}/;UID=${uid}${exp};URLAUTH=${acc}`;
      const text = token ? `${rump}:INTERNAL:${token}` : rump;
      const got = parseAuthUrl(text);
      assert.ok(got, text);
      assert.equal(got.rump, rump);
      assert.equal(got.token, token);
      assert.equal(got.target.uid, uid);
      assert.equal(got.target.mailbox, mailbox);
      assert.equal(got.target.user, decodeURIComponent(user));
      assert.equal(got.expire?.getTime(), expire?.getTime());
    },
  ), { numRuns: 500 });
});

test('property: any text gives a URL or null, never a throw, and a parsed rump is a prefix of the text', () => {
  const pieces = fc.constantFrom('imap://', 'a@b', '/INBOX', '/;UID=1', ';URLAUTH=', 'anonymous', 'submit+', ':internal:', '0123456789abcdef0123456789abcdef', ';EXPIRE=', '2030-01-01T00:00:00Z', '%', '%41', ':', ';', '/');
  fc.assert(fc.property(fc.oneof(fc.string(), fc.array(pieces, { maxLength: 12 }).map((a) => a.join(''))), (text) => {
    const got = parseAuthUrl(text);
    if (got) assert.ok(text.startsWith(got.rump));
  }), { numRuns: 2000 });
});
