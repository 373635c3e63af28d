import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horsf', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });
  it('salts: two hashes of one password differ', async () => {
    assert.notEqual(await hashPassword('x'), await hashPassword('x'));
  });
  const malformed = ['', 'plain', '$scrypt$ln=15,r=8,p=1$$', '$scrypt$ln=40,r=8,p=1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==', '$argon2id$v=19$m=1,t=1,p=1$x$y'];
  for (const stored of malformed) it(`refuses malformed ${JSON.stringify(stored)}`, async () => assert.equal(await verifyPassword('x', stored), false));
});
