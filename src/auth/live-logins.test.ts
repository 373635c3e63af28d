import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalChangeBus, RECHECK } from '../store/bus.js';
import type { CredentialState, Id } from '../store/types.js';
import type { LoginIdentity } from './authenticate.js';
import { LiveLogins, loginRevoked } from './live-logins.js';

const owner = (userId: Id, hash: string): LoginIdentity => ({ userId, member: 'owner', memberId: null, viewerId: userId, device: null, passwordHash: hash, protocol: 'imap' });
const device = (userId: Id, id: Id, protocol: LoginIdentity['protocol'] = 'imap'): LoginIdentity => ({
  userId, member: 'bob', memberId: 2, viewerId: -2, device: { id, name: `d${id}`, settings: {} }, passwordHash: null, protocol,
});
const state = (userId: Id, hash: string, devices: number[], settings: Record<string, string> = {}): CredentialState => ({
  userId, passwordHash: hash, settings, devices: devices.map((id) => ({ id, memberId: 2, settings: {} })),
});

/** Resolves after pending microtasks and one macrotask turn (the registry's checks are async). */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('live logins (containment)', () => {
  it('loginRevoked: a missing device, a changed hash, require_device_passwords, a protocol taken away, a deleted account', () => {
    assert.equal(loginRevoked(device(1, 5), state(1, 'h', [5])), null);
    assert.match(loginRevoked(device(1, 5), state(1, 'h', [6]))!, /revoked/);
    assert.equal(loginRevoked(owner(1, 'h'), state(1, 'h', [])), null);
    assert.match(loginRevoked(owner(1, 'h'), state(1, 'h2', []))!, /password changed/);
    assert.match(loginRevoked(owner(1, 'h'), state(1, 'h', [], { 'auth.require_device_passwords': 'yes' }))!, /requires device passwords/);
    const limited = state(1, 'h', [5]);
    limited.devices[0].settings = { protocols: 'pop3' };
    assert.match(loginRevoked(device(1, 5, 'imap'), limited)!, /protocol/);
    assert.match(loginRevoked(device(1, 5), undefined)!, /deleted/);
  });

  it("a credentials event checks that user's sessions only; RECHECK checks every user in one read; unregistered sessions are forgotten", async () => {
    const bus = new LocalChangeBus();
    let states = [state(1, 'h', [5, 6]), state(2, 'g', [])];
    const reads: Id[][] = [];
    const logins = new LiveLogins({ liveCredentials: async (ids) => (reads.push(ids), states.filter((s) => ids.includes(s.userId))) }, bus);
    const ended: string[] = [];
    logins.register(device(1, 5), (why) => ended.push(`d5 ${why}`));
    const off6 = logins.register(device(1, 6), (why) => ended.push(`d6 ${why}`));
    logins.register(owner(2, 'g'), (why) => ended.push(`o2 ${why}`));
    assert.equal(logins.size, 3);
    states = [state(1, 'h', [6]), state(2, 'g2', [])];
    bus.publish({ kind: 'credentials', userId: 1, mailboxId: 0, modSeq: 0 });
    await settle();
    assert.deepEqual(ended, ['d5 device password revoked']);
    assert.deepEqual(reads, [[1]]);
    off6();
    bus.publish(RECHECK); // another process changed something: one read for every user with sessions
    await settle();
    assert.deepEqual(reads, [[1], [2]], 'user 1 has no session left: only user 2 is read');
    assert.deepEqual(ended, ['d5 device password revoked', 'o2 account password changed']);
    assert.equal(logins.size, 0);
    bus.publish({ kind: 'append', userId: 2, mailboxId: 3, modSeq: 4 });
    await settle();
    assert.equal(reads.length, 2, 'mail changes cost nothing');
  });

  it('a failed read ends nothing and is reported', async () => {
    const bus = new LocalChangeBus();
    const errors: unknown[] = [];
    const logins = new LiveLogins({ liveCredentials: async () => Promise.reject(new Error('down')) }, bus, (e) => errors.push(e));
    let ended = 0;
    logins.register(owner(1, 'h'), () => ended++);
    bus.publish({ kind: 'credentials', userId: 1, mailboxId: 0, modSeq: 0 });
    await settle();
    assert.equal(ended, 0);
    assert.equal(errors.length, 1);
    assert.equal(logins.size, 1);
  });
});
