import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticator, type LoginObserver } from './authenticate.js';
import { CredentialCache } from './credential-cache.js';
import { HashPoolBusy } from './hash-pool.js';
import { hashPassword, libuvScrypt, type Scrypt } from './password.js';
import type { AuthThrottle } from './throttle.js';
import type { Device, Store, User } from '../store/types.js';
import { devicePasswordDigest, generateDevicePassword, looksLikeDevicePassword } from './device-password.js';
import type { MailProtocol } from './device-limits.js';

const IP = '198.51.100.7';

/** A store with one user whose hash the test may change, a throttle that records, and a scrypt that counts. */
async function fixture(options: { busy?: () => boolean } = {}) {
  const user = { id: 7, address: 'alice@example.test', passwordHash: await hashPassword('old-pw'), settings: {} } as unknown as User;
  const devices = new Map<string, Device>(); // by digest
  const recorded: string[] = [];
  const store = {
    getUser: async (a: string) => (a.toLowerCase() === user.address ? { ...user } : null),
    deviceBySecret: async (digest: string) => devices.get(digest) ?? null,
    recordDeviceLogin: async (id: number, _at: Date, protocol: string, address: string) => void recorded.push(`${id} ${protocol} ${address}`),
  } as unknown as Store;
  const events: string[] = [];
  const throttle: AuthThrottle = {
    before: async () => ({ delayMs: 0, blocked: false }),
    failed: async (_ip, account) => void events.push(`failed ${account}`),
    succeeded: async (_ip, account) => void events.push(`succeeded ${account}`),
  };
  let hashes = 0;
  const scrypt: Scrypt = async (...args) => {
    if (options.busy?.()) throw new HashPoolBusy();
    hashes++;
    return libuvScrypt(...args);
  };
  const observed: string[] = [];
  const observer: LoginObserver = {
    succeeded: (u, l, address) => void observed.push(`ok ${u.address} ${l.member} ${l.device?.name ?? '-'} ${l.protocol} ${address}`),
    failed: (a) => void observed.push(`failed ${a.username} ${a.user?.id ?? 'none'} ${a.device ?? '-'} ${a.protocol} ${a.remoteAddress} ${a.reason}`),
  };
  const auth = createAuthenticator(store, throttle, { scrypt, cache: new CredentialCache({ size: 100, ttlMs: 60_000 }), observer });
  const login = async (password: string, username = user.address, protocol: MailProtocol = 'imap') => {
    const r = await auth.authenticate({ username, password, remoteAddress: IP, protocol });
    return r.ok ? 'ok' : r.reason;
  };
  const addDevice = (password: string, d: Partial<Device>) => {
    const device: Device = { id: 1, userId: user.id, memberId: 3, member: 'bob', viewerId: -3, name: 'phone', settings: {}, createdAt: new Date(), lastLogin: null, ...d };
    devices.set(devicePasswordDigest(password), device);
    return device;
  };
  return { user, auth, login, events, hashes: () => hashes, addDevice, devices, recorded, observed };
}

describe('authenticator with the credential cache', () => {
  it('a second login with the same password costs no hash; a wrong one always does and is counted', async () => {
    const f = await fixture();
    assert.equal(await f.login('old-pw'), 'ok');
    assert.equal(f.hashes(), 1);
    assert.equal(await f.login('old-pw'), 'ok');
    assert.equal(await f.login('old-pw', 'Alice@example.test'), 'ok', 'the cache is keyed by user id, not by the typed name');
    assert.equal(f.hashes(), 1, 'served from the cache');
    for (let i = 0; i < 3; i++) assert.equal(await f.login('old-pW'), 'invalid');
    assert.equal(f.hashes(), 4, 'each wrong password costs a real hash');
    assert.deepEqual(f.events, ['succeeded alice@example.test', 'succeeded alice@example.test', 'succeeded Alice@example.test', ...Array(3).fill('failed alice@example.test')]);
  });

  it('a changed stored hash refuses the old password at once and accepts the new one', async () => {
    const f = await fixture();
    assert.equal(await f.login('old-pw'), 'ok');
    f.user.passwordHash = await hashPassword('new-pw'); // as `mailroom user passwd` in another process
    assert.equal(await f.login('old-pw'), 'invalid');
    assert.equal(await f.login('new-pw'), 'ok');
    assert.equal(await f.login('new-pw'), 'ok');
    assert.equal(f.hashes(), 3, 'old (first), old (refused: new hash, real scrypt), new (first); then cached');
  });

  it('forgetUser makes the next login hash again', async () => {
    const f = await fixture();
    assert.equal(await f.login('old-pw'), 'ok');
    f.auth.forgetUser(f.user.id);
    assert.equal(await f.login('old-pw'), 'ok');
    assert.equal(f.hashes(), 2);
  });

  it('unknown users cost a hash and are never cached', async () => {
    const f = await fixture();
    assert.equal(await f.login('old-pw', 'nobody@example.test'), 'invalid');
    const after = f.hashes();
    assert.equal(await f.login('old-pw', 'nobody@example.test'), 'invalid');
    assert.equal(f.hashes(), after + 1);
  });

  it('a full hash queue is a temporary failure that does not count towards the throttle', async () => {
    let busy = false;
    const f = await fixture({ busy: () => busy });
    busy = true;
    assert.equal(await f.login('old-pw'), 'unavailable');
    assert.equal(await f.login('wrong'), 'unavailable');
    assert.equal(await f.login('x', 'nobody@example.test'), 'unavailable', 'unknown users alike: no hint that the account does not exist');
    assert.deepEqual(f.events, []);
    busy = false;
    assert.equal(await f.login('old-pw'), 'ok');
    busy = true;
    assert.equal(await f.login('old-pw'), 'ok', 'a verified password needs no hash thread');
  });
});

describe('authenticator with device passwords', () => {
  it('a device password logs in as its member with no scrypt, by one digest lookup; the last login is recorded', async () => {
    const f = await fixture();
    const pw = generateDevicePassword();
    f.addDevice(pw, { id: 11 });
    const r = await f.auth.authenticate({ username: 'alice@example.test', password: pw, remoteAddress: IP, protocol: 'pop3' });
    assert.ok(r.ok);
    assert.deepEqual(r.login, {
      userId: 7, member: 'bob', memberId: 3, viewerId: -3, device: { id: 11, name: 'phone', settings: {} }, passwordHash: null, protocol: 'pop3',
    });
    assert.equal(f.hashes(), 0, 'no scrypt for a device password');
    assert.equal(await f.login(pw.toUpperCase().replace(/-/g, '')), 'ok', 'typed in capitals and without dashes');
    assert.deepEqual(f.recorded, ['11 pop3 198.51.100.7', '11 imap 198.51.100.7']);
  });

  it("another account's device password, or a revoked one, is a wrong password", async () => {
    const f = await fixture();
    const pw = generateDevicePassword();
    f.addDevice(pw, { userId: 99 });
    assert.equal(await f.login(pw), 'invalid');
    f.devices.clear();
    assert.equal(await f.login(pw), 'invalid');
    assert.deepEqual(f.events, ['failed alice@example.test', 'failed alice@example.test']);
  });

  it('protocols= refuses other protocols without counting a failure; require_device_passwords refuses the account password', async () => {
    const f = await fixture();
    const pw = generateDevicePassword();
    f.addDevice(pw, { settings: { protocols: 'imap,smtp' } });
    assert.equal(await f.login(pw, undefined, 'smtp'), 'ok');
    assert.equal(await f.login(pw, undefined, 'pop3'), 'invalid');
    assert.ok(!f.events.includes('failed alice@example.test'));
    assert.equal(await f.login('old-pw'), 'ok');
    f.user.settings = { 'auth.require_device_passwords': 'yes' };
    assert.equal(await f.login('old-pw'), 'invalid');
    assert.equal(await f.login(pw), 'ok', 'devices still work');
  });

  it('generated passwords: 24 characters of a 32-letter alphabet in six groups, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generateDevicePassword();
      assert.match(p, /^[a-km-np-z2-9]{4}(-[a-km-np-z2-9]{4}){5}$/);
      assert.ok(looksLikeDevicePassword(p));
      seen.add(p);
    }
    assert.equal(seen.size, 200);
    assert.ok(!looksLikeDevicePassword('correct horse battery staple'));
    assert.equal(devicePasswordDigest('abcd-efgh'), devicePasswordDigest('ABCDEFGH'));
  });
});

describe('authenticator: the login observer (failed logins, new-login notice)', () => {
  it('is told every decided outcome with the account, device, protocol, address and reason; never a throttled or unavailable one', async () => {
    const f = await fixture();
    const pw = generateDevicePassword();
    f.addDevice(pw, { name: 'phone', settings: { protocols: 'pop3' } });
    assert.equal(await f.login('old-pw'), 'ok');
    assert.equal(await f.login('wrong'), 'invalid');
    assert.equal(await f.login('wrong', 'nobody@example.test', 'smtp'), 'invalid');
    assert.equal(await f.login(pw, undefined, 'imap'), 'invalid');
    assert.equal(await f.login(pw, undefined, 'pop3'), 'ok');
    f.user.settings = { 'auth.require_device_passwords': 'yes' };
    assert.equal(await f.login('old-pw'), 'invalid');
    assert.deepEqual(f.observed, [
      `ok alice@example.test owner - imap ${IP}`,
      `failed alice@example.test 7 - imap ${IP} invalid`,
      `failed nobody@example.test none - smtp ${IP} invalid`,
      `failed alice@example.test 7 phone imap ${IP} protocol`,
      `ok alice@example.test bob phone pop3 ${IP}`,
      `failed alice@example.test 7 - imap ${IP} device-password-required`,
    ]);
  });
});
