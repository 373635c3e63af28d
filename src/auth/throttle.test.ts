import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THROTTLE, MemoryThrottle } from './throttle.js';
import { createAuthenticator } from './authenticate.js';
import type { Store, User } from '../store/types.js';
import { hashPassword } from './password.js';

describe('MemoryThrottle', () => {
  it('lets the first failures through, then doubles the delay, then blocks', async () => {
    let now = 0;
    const t = new MemoryThrottle(DEFAULT_THROTTLE, () => now);
    const delays: number[] = [];
    for (let i = 0; i < DEFAULT_THROTTLE.ipBlockFailures; i++) {
      delays.push((await t.before('1.2.3.4', `user${i}@x`)).delayMs);
      await t.failed('1.2.3.4', `user${i}@x`);
    }
    assert.deepEqual(delays.slice(0, 6), [0, 0, 0, 0, 500, 1000]);
    assert.ok(delays.every((d) => d <= DEFAULT_THROTTLE.maxDelayMs));
    assert.equal((await t.before('1.2.3.4', 'a@x')).blocked, true);
    assert.equal((await t.before('5.6.7.8', 'a@x')).blocked, false, 'another IP is not affected');
    now += DEFAULT_THROTTLE.windowMs + 1;
    assert.deepEqual(await t.before('1.2.3.4', 'a@x'), { delayMs: 0, blocked: false }, 'the window forgets');
  });

  it('slows an account attacked from many IPs but never blocks it', async () => {
    const t = new MemoryThrottle();
    for (let i = 0; i < 50; i++) await t.failed(`10.0.0.${i}`, 'Alice@X');
    const v = await t.before('192.0.2.1', 'alice@x');
    assert.equal(v.blocked, false);
    assert.equal(v.delayMs, DEFAULT_THROTTLE.accountDelayMs);
  });

  it('a success forgives that account from that address, not the address', async () => {
    const t = new MemoryThrottle();
    for (let i = 0; i < 8; i++) await t.failed('1.1.1.1', 'a@x');
    assert.ok((await t.before('1.1.1.1', 'b@x')).delayMs > 0);
    await t.succeeded('1.1.1.1', 'a@x');
    assert.ok((await t.before('1.1.1.1', 'b@x')).delayMs > 0, 'someone else may be guessing from there');
    assert.deepEqual(await t.before('1.1.1.1', 'a@x'), { delayMs: 0, blocked: false });
  });

  it('counts per /24 and IPv6 /64: many addresses of one network get blocked together', async () => {
    const t = new MemoryThrottle();
    for (let i = 0; i < DEFAULT_THROTTLE.netBlockFailures; i++) await t.failed(`192.0.2.${i % 50}`, `u${i}@x`);
    assert.equal((await t.before('192.0.2.200', 'new@x')).blocked, true, 'a fresh address of the same /24');
    assert.equal((await t.before('192.0.3.1', 'new@x')).blocked, false, 'the next /24 is not');
    for (let i = 0; i < DEFAULT_THROTTLE.ipBlockFailures; i++) await t.failed(`2001:db8:1:2::${i.toString(16)}`, 'v@x');
    for (let i = 0; i < DEFAULT_THROTTLE.netBlockFailures; i++) await t.failed(`2001:db8:1:2:${i.toString(16)}::1`, 'v@x');
    assert.equal((await t.before('2001:db8:1:2:ffff::9', 'new@x')).blocked, true, 'the whole /64');
    assert.equal((await t.before('2001:db8:1:3::1', 'new@x')).blocked, false);
  });

  it('known-good: an address an account logged in from before passes a blocked address, network and account', async () => {
    const t = new MemoryThrottle();
    await t.succeeded('198.51.100.7', 'owner@x');
    await t.succeeded('2001:db8:5:5::1', 'owner@x');
    for (let i = 0; i < 200; i++) await t.failed('198.51.100.7', `guess${i}@x`); // the NAT is attacked
    for (let i = 0; i < 50; i++) await t.failed(`203.0.113.${i}`, 'owner@x'); // and the account too
    assert.equal((await t.before('198.51.100.7', 'colleague@x')).blocked, true, 'a never-seen account from the attacked address');
    assert.deepEqual(await t.before('198.51.100.7', 'owner@x'), { delayMs: 0, blocked: false });
    assert.deepEqual(await t.before('2001:db8:5:5::abcd', 'owner@x'), { delayMs: 0, blocked: false }, 'IPv6: the same /64');
    assert.equal((await t.before('192.0.2.1', 'owner@x')).delayMs, DEFAULT_THROTTLE.accountDelayMs, 'elsewhere the account is slowed');
    for (let i = 0; i < DEFAULT_THROTTLE.knownGoodMaxFailures; i++) await t.failed('198.51.100.7', 'owner@x');
    assert.equal((await t.before('198.51.100.7', 'owner@x')).blocked, true, 'the pair itself failing loses the pass');
  });

  it('keeps at most maxKeys entries', async () => {
    const t = new MemoryThrottle(DEFAULT_THROTTLE, Date.now, 10);
    for (let i = 0; i < 100; i++) await t.failed(`ip${i}`, `a${i}`);
    assert.equal((await t.before('ip0', 'a0')).delayMs, 0);
  });
});

describe('authenticator', () => {
  it('accepts the right password, refuses wrong ones and unknown users alike, and throttles', async () => {
    const user = { id: 1, address: 'alice@example.test', passwordHash: await hashPassword('pw'), settings: {} } as unknown as User;
    const store = { getUser: async (a: string) => (a.toLowerCase() === user.address ? user : null) } as unknown as Store;
    const slept: number[] = [];
    const auth = createAuthenticator(store, new MemoryThrottle(), { sleep: async (ms) => void slept.push(ms) });
    const ip = '203.0.113.9';
    assert.deepEqual(await auth.authenticate({ username: 'alice@example.test', password: 'pw', remoteAddress: ip, protocol: 'imap' }), { ok: true, user, login: { userId: 1, member: 'owner', memberId: null, viewerId: 1, device: null, passwordHash: user.passwordHash, protocol: 'imap' } });
    const rows: [string, string][] = [['alice@example.test', 'wrong'], ['nobody@example.test', 'pw'], ['no-at-sign', 'pw'], ['', '']];
    for (const [username, password] of rows) assert.deepEqual(await auth.authenticate({ username, password, remoteAddress: ip, protocol: 'imap' }), { ok: false, reason: 'invalid' });
    for (let i = 0; i < 40; i++) await auth.authenticate({ username: 'alice@example.test', password: 'bad', remoteAddress: ip, protocol: 'imap' });
    assert.deepEqual(await auth.authenticate({ username: 'alice@example.test', password: 'pw', remoteAddress: ip, protocol: 'imap' }), { ok: false, reason: 'throttled' });
    assert.ok(slept.length > 0 && slept.every((ms) => ms > 0));
  });
});
