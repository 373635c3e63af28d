import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loginEventRecorder, loginOrigin, type NewLogin } from './login-events.js';
import type { LoginIdentity } from './authenticate.js';
import type { NewFailedLogin, User } from '../store/types.js';

const owner = { device: null } as Pick<LoginIdentity, 'device'>;

describe('login origins', () => {
  const table: [string, Pick<LoginIdentity, 'device'>, string, string][] = [
    ['an IPv4 client', owner, '192.0.2.7', 'address:192.0.2.7'],
    ['an IPv4-mapped IPv6 client is its IPv4 address', owner, '::ffff:192.0.2.7', 'address:192.0.2.7'],
    ['an IPv6 client by its /64', owner, '2001:db8:1:2:aaaa::1', 'address:2001:db8:1:2::/64'],
    ['another host in the same /64 is the same origin', owner, '2001:db8:1:2:ffff:1:2:3', 'address:2001:db8:1:2::/64'],
    ['a device password by its device, wherever it is', { device: { id: 12, name: 'phone', settings: {} } }, '203.0.113.9', 'device:12'],
  ];
  for (const [name, login, address, want] of table) it(name, () => assert.equal(loginOrigin(login, address), want));
});

describe('login event recorder', () => {
  it('records failures, and tells the notice only of a new origin that is not the account\'s first', async () => {
    const failures: NewFailedLogin[] = [];
    const seen = new Set<string>();
    const notices: string[] = [];
    const store = {
      recordFailedLogin: async (f: NewFailedLogin) => void failures.push(f),
      noteLoginOrigin: async (_u: number, origin: string) => {
        const r = { isNew: !seen.has(origin), firstForAccount: seen.size === 0 };
        seen.add(origin);
        return r;
      },
    };
    const rec = loginEventRecorder(store, { notice: async (n: NewLogin) => void notices.push(n.remoteAddress) });
    const user = { id: 1, address: 'a@example.test' } as User;
    const login = { device: null, member: 'owner', protocol: 'imap' } as unknown as LoginIdentity;
    for (const ip of ['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.2', '192.0.2.3']) {
      rec.succeeded(user, login, ip);
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(notices, ['192.0.2.2', '192.0.2.3']);
    rec.failed({ username: 'x@example.test', user: null, protocol: 'pop3', remoteAddress: '192.0.2.9', device: null, reason: 'invalid' });
    await new Promise((r) => setImmediate(r));
    assert.equal(failures.length, 1);
    assert.deepEqual({ ...failures[0], at: null }, { at: null, userId: null, username: 'x@example.test', protocol: 'pop3', address: '192.0.2.9', device: null, reason: 'invalid' });
  });

  it('a store error goes to onError, never to the login', async () => {
    const errors: string[] = [];
    const rec = loginEventRecorder(
      { recordFailedLogin: async () => Promise.reject(new Error('down')), noteLoginOrigin: async () => Promise.reject(new Error('down')) },
      { onError: (_e, what) => void errors.push(what) },
    );
    rec.failed({ username: 'x', user: null, protocol: 'imap', remoteAddress: '::1', device: null, reason: 'invalid' });
    rec.succeeded({ id: 1 } as User, { device: null } as LoginIdentity, '::1');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(errors.sort(), ['failed-login record', 'new-login notice']);
  });
});
