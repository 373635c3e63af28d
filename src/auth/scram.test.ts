import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SaslError } from './sasl.js';
import { ScramExchange, parseClientFinal, parseClientFirst, type ScramMechanism } from './scram.js';
import { deriveScramKey, formatScramKeys, parseScramKeys, scramKeysFor } from './scram-keys.js';
import { saslPrep } from './saslprep.js';

/** RFC 5802 5 (SCRAM-SHA-1) and RFC 7677 3 (SCRAM-SHA-256): user "user", password "pencil". */
const VECTORS = [
  {
    mechanism: 'SCRAM-SHA-1' as ScramMechanism,
    clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverNonce: '3rfcNHYJY1ZVvWVs7j',
    salt: 'QSXCR+Q6sek8bf92',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    mechanism: 'SCRAM-SHA-256' as ScramMechanism,
    clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
];

describe('SCRAM test vectors (RFC 5802, RFC 7677)', () => {
  for (const v of VECTORS) {
    it(`${v.mechanism}: the server side reproduces the exchange from stored keys`, async () => {
      const hash = v.mechanism === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
      const key = await deriveScramKey(hash, 'pencil', Buffer.from(v.salt, 'base64'), 4096);
      const stored = parseScramKeys(formatScramKeys({ [hash]: key }))[hash]!; // through the stored text form
      const x = new ScramExchange(v.mechanism, null, v.serverNonce);
      assert.equal(x.start(v.clientFirst).username, 'user');
      assert.equal(x.serverFirst(stored), v.serverFirst);
      assert.deepEqual(x.finish(v.clientFinal, stored), { ok: true, serverFinal: v.serverFinal });
    });

    it(`${v.mechanism}: a tampered proof or another password fails`, async () => {
      const hash = v.mechanism === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
      const salt = Buffer.from(v.salt, 'base64');
      const good = await deriveScramKey(hash, 'pencil', salt, 4096);
      const other = await deriveScramKey(hash, 'pencil2', salt, 4096);
      const at = v.clientFinal.indexOf('p=') + 2;
      const flipped = v.clientFinal.slice(0, at) + (v.clientFinal[at] === 'A' ? 'B' : 'A') + v.clientFinal.slice(at + 1);
      for (const [final, key] of [[flipped, good], [v.clientFinal, other]] as const) {
        const x = new ScramExchange(v.mechanism, null, v.serverNonce);
        x.start(v.clientFirst);
        x.serverFirst(key);
        assert.equal(x.finish(final, key).ok, false);
      }
    });
  }
});

describe('SCRAM channel binding rules', () => {
  const binding = { type: 'tls-exporter' as const, data: Buffer.alloc(32, 7) };
  const cases: [string, ScramMechanism, typeof binding | null, string, RegExp | null][] = [
    ['PLUS with the right type', 'SCRAM-SHA-256-PLUS', binding, 'p=tls-exporter,,n=u,r=abc', null],
    ['PLUS with another type', 'SCRAM-SHA-256-PLUS', binding, 'p=tls-unique,,n=u,r=abc', /unsupported channel binding type/],
    ['PLUS without binding flag', 'SCRAM-SHA-256-PLUS', binding, 'n,,n=u,r=abc', /without channel binding/],
    ['PLUS without TLS', 'SCRAM-SHA-256-PLUS', null, 'p=tls-exporter,,n=u,r=abc', /needs TLS/],
    ['non-PLUS asking for binding', 'SCRAM-SHA-256', binding, 'p=tls-exporter,,n=u,r=abc', /non-PLUS/],
    ['"y" where -PLUS is offered (downgrade)', 'SCRAM-SHA-256', binding, 'y,,n=u,r=abc', /supports channel binding/],
    ['"y" without TLS', 'SCRAM-SHA-256', null, 'y,,n=u,r=abc', null],
    ['"y" for SHA-1 (no SHA-1-PLUS offered)', 'SCRAM-SHA-1', binding, 'y,,n=u,r=abc', null],
    ['authzid equal to the user', 'SCRAM-SHA-256', null, 'n,a=u,n=u,r=abc', null],
    ['authzid of someone else', 'SCRAM-SHA-256', null, 'n,a=v,n=u,r=abc', /authorization identity/],
  ];
  for (const [name, mech, cb, first, error] of cases) {
    it(name, () => {
      const x = new ScramExchange(mech, cb);
      if (error) assert.throws(() => x.start(first), (e: Error) => e instanceof SaslError && error.test(e.message));
      else x.start(first);
    });
  }

  it('the c= attribute must carry the gs2 header and the binding data', async () => {
    const key = await deriveScramKey('SHA-256', 'pw');
    const x = new ScramExchange('SCRAM-SHA-256-PLUS', binding, 'srv');
    x.start('p=tls-exporter,,n=u,r=cli');
    x.serverFirst(key);
    const wrong = Buffer.concat([Buffer.from('p=tls-exporter,,'), Buffer.alloc(32, 8)]).toString('base64');
    assert.equal(x.finish(`c=${wrong},r=clisrv,p=AAAA`, key).ok, false);
  });
});

describe('SCRAM message parsing', () => {
  const firsts: [string, string | null][] = [
    ['n,,n=user,r=abc', 'user'],
    ['n,,n=a=2Cb=3Dc,r=abc', 'a,b=c'],
    ['n,,n=u,r=abc,x=ext', 'u'],
    ['', null],
    ['n,,', null],
    ['n,,n=u', null],
    ['n,,r=abc,n=u', null],
    ['n,,n=,r=abc', null],
    ['n,,n=a=zz,r=b', null],
    ['n,,m=x,n=u,r=b', null],
    ['n,,n=u,r=a,b', null],
    ['n,,n=u,r=', null],
    ['x,,n=u,r=b', null],
    ['p=,,n=u,r=b', null],
    ['n,b=x,n=u,r=b', null],
  ];
  for (const [text, user] of firsts) {
    it(`client-first ${JSON.stringify(text)} → ${user ?? 'error'}`, () => {
      if (user === null) assert.throws(() => parseClientFirst(text), SaslError);
      else assert.equal(parseClientFirst(text).username, user);
    });
  }
  const finals: [string, boolean][] = [
    ['c=biws,r=abc,p=AAAA', true],
    ['c=biws,r=abc,x=1,p=AAAA', true],
    ['c=biws,r=abc', false],
    ['c=b!ws,r=abc,p=AAAA', false],
    ['c=biws,r=abc,p=', false],
    ['c=biws,r=abc,p=AAA', false],
    ['r=abc,c=biws,p=AAAA', false],
  ];
  for (const [text, valid] of finals) {
    it(`client-final ${JSON.stringify(text)} → ${valid ? 'ok' : 'error'}`, () => {
      if (valid) parseClientFinal(text);
      else assert.throws(() => parseClientFinal(text), SaslError);
    });
  }

  it('property: the exchange never throws anything but SaslError on any input', async () => {
    const key = await deriveScramKey('SHA-256', 'pw', Buffer.alloc(16, 1), 4096);
    const piece = fc.oneof(fc.string(), fc.constantFrom('n,,', 'y,,', 'p=tls-exporter,,', 'n=', ',r=', ',p=', 'c=', 'biws', '=2C', '=3D', ','));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((a) => a.join('')), fc.array(piece, { maxLength: 8 }).map((a) => a.join('')), (first, final) => {
        const x = new ScramExchange('SCRAM-SHA-256-PLUS', { type: 'tls-exporter', data: Buffer.alloc(32) });
        try {
          x.start(first);
          x.serverFirst(key);
          assert.equal(x.finish(final, key).ok, false);
        } catch (e) {
          if (!(e instanceof SaslError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('stored SCRAM keys', () => {
  it('one line per hash, each with its own salt; malformed lines are ignored', async () => {
    const text = await scramKeysFor('secret');
    const keys = parseScramKeys(text);
    assert.equal(keys['SHA-1']!.storedKey.length, 20);
    assert.equal(keys['SHA-256']!.storedKey.length, 32);
    assert.notDeepEqual(keys['SHA-1']!.salt, keys['SHA-256']!.salt);
    assert.deepEqual(parseScramKeys('SHA-256 i=4096 s=AAAA k=short v=short\ngarbage'), {});
    assert.deepEqual(parseScramKeys(''), {});
  });

  it('SASLprep: ASCII unchanged; non-ASCII spaces map to space, soft hyphen goes, NFKC', () => {
    assert.equal(saslPrep('pencil'), 'pencil');
    assert.equal(saslPrep('I\u00ADX'), 'IX'); // RFC 4013 3 examples
    assert.equal(saslPrep('\u00AA'), 'a');
    assert.equal(saslPrep('\u2168'), 'IX');
    assert.equal(saslPrep('a\u00A0b'), 'a b');
  });
});
