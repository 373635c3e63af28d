import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBase64, decodeLoginStep, decodePlain, SaslError } from './sasl.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('SASL', () => {
  const plain: [string, { authzid: string; username: string; password: string } | RegExp][] = [
    [b64('\0alice@x\0secret'), { authzid: '', username: 'alice@x', password: 'secret' }],
    [b64('alice@x\0alice@x\0pässwörd'), { authzid: 'alice@x', username: 'alice@x', password: 'pässwörd' }],
    [b64('bob@x\0alice@x\0secret'), /authorization identity/],
    [b64('alice@x\0secret'), /malformed/],
    [b64('\0\0secret'), /malformed/],
    [b64('\0alice@x\0'), /malformed/],
    ['not base64!', /invalid base64/],
    ['YWJj=', /invalid base64/],
    ['=', /malformed/],
  ];
  for (const [input, want] of plain) {
    it(`PLAIN ${JSON.stringify(input)}`, () => {
      if (want instanceof RegExp) assert.throws(() => decodePlain(input), (e: unknown) => e instanceof SaslError && want.test(e.message));
      else assert.deepEqual(decodePlain(input), want);
    });
  }
  it('LOGIN steps and the empty response', () => {
    assert.equal(decodeLoginStep(b64('alice@x')), 'alice@x');
    assert.equal(decodeBase64('=').length, 0);
  });
  it('never throws anything but SaslError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          decodePlain(s);
        } catch (e) {
          assert.ok(e instanceof SaslError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
