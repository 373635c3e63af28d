import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { DkimError, dkimSignatures, generateDkimKey, loadDkimKeys, type DkimRecord } from './dkim.js';

/** A resolver that serves only the given TXT records, as they would be published (strings of ≤255 characters). */
export function txtResolver(records: DkimRecord[]) {
  return async (name: string, type: string) => {
    const r = records.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (type !== 'TXT' || !r) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    // The zone line's quoted strings, exactly as a DNS server would return them.
    return [[...r.zoneLine.matchAll(/"([^"]*)"/g)].map((m) => m[1])];
  };
}

const message = Buffer.from('From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\nSubject: hello\r\nDate: Mon, 1 Jan 2030 00:00:00 +0000\r\n\r\nHello Bob,\r\n  spaced   line \r\n\r\n');

describe('dkim', () => {
  for (const algorithm of ['rsa', 'ed25519'] as const) {
    it(`${algorithm}: generate, print the record, sign, and mailauth verifies with that record`, async () => {
      const data = mkdtempSync(join(tmpdir(), 'dkim-'));
      const { record, file } = await generateDkimKey(data, 'Example.TEST', 'sel1', algorithm);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(record.name, 'sel1._domainkey.example.test');
      assert.match(record.value, new RegExp(`^v=DKIM1; k=${algorithm}; p=[A-Za-z0-9+/=]+$`));
      for (const s of record.zoneLine.matchAll(/"([^"]*)"/g)) assert.ok(s[1].length <= 255);
      const keys = await loadDkimKeys(data, 'example.test');
      assert.deepEqual(keys.map((k) => [k.selector, k.algorithm]), [['sel1', algorithm]]);
      const sig = await dkimSignatures(keys, () => Readable.from([message]));
      assert.match(sig, /^DKIM-Signature: /);
      const signed = Buffer.concat([Buffer.from(sig), message]);
      const result = await dkimVerify(signed, { resolver: txtResolver([record]) as never });
      assert.equal(result.results[0].status.result, 'pass', JSON.stringify(result.results[0].status));
      // A changed body fails: the verifier really checks.
      const tampered = Buffer.concat([Buffer.from(sig), Buffer.from(message.toString().replace('Hello', 'Jello'))]);
      const bad = await dkimVerify(tampered, { resolver: txtResolver([record]) as never });
      assert.notEqual(bad.results[0].status.result, 'pass');
    });
  }

  it('refuses a taken or malformed selector; a domain without keys signs nothing', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dkim-'));
    await generateDkimKey(data, 'example.test', 'a', 'ed25519');
    await assert.rejects(generateDkimKey(data, 'example.test', 'a', 'rsa'), DkimError);
    await assert.rejects(generateDkimKey(data, 'example.test', 'bad_selector!', 'rsa'), DkimError);
    assert.equal(await dkimSignatures(await loadDkimKeys(data, 'other.test'), () => Readable.from([message])), '');
  });
});
