import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import fc from 'fast-check';
import { adminReachable, isLoopback } from './access.js';
import { escapeHtml, html, raw } from './html.js';
import { AdminSessions, cookie, sameToken } from './sessions.js';

const req = (remote: string, local: string, encrypted = false) => ({ socket: { remoteAddress: remote, localAddress: local, encrypted } }) as unknown as http.IncomingMessage;

describe('admin page: where it is served', () => {
  const table: [string, http.IncomingMessage, boolean, boolean][] = [
    ['plain HTTP, both ends loopback', req('127.0.0.1', '127.0.0.1'), false, true],
    ['plain HTTP, another 127/8 client', req('127.0.0.2', '127.0.0.1'), false, true],
    ['plain HTTP over ::1', req('::1', '::1'), false, true],
    ['plain HTTP, IPv4-mapped loopback', req('::ffff:127.0.0.1', '::ffff:127.0.0.1'), false, true],
    ['plain HTTP from the network', req('192.0.2.10', '192.0.2.1'), false, false],
    ['plain HTTP to a public address from this host', req('192.0.2.1', '192.0.2.1'), false, false],
    ['plain HTTP, IPv6 from the network', req('2001:db8::5', '2001:db8::1'), false, false],
    ['plain HTTP on loopback behind a PROXY-protocol balancer', req('127.0.0.1', '127.0.0.1'), true, false],
    ['TLS from the network', req('192.0.2.10', '192.0.2.1', true), false, true],
    ['TLS behind a balancer', req('127.0.0.1', '127.0.0.1', true), true, true],
  ];
  for (const [name, r, proxy, want] of table) it(name, () => assert.equal(adminReachable(r, proxy), want));
  it('unknown addresses are not loopback', () => {
    assert.equal(isLoopback(undefined), false);
    assert.equal(isLoopback('128.0.0.1'), false);
  });
});

describe('admin page: escaping', () => {
  it('every interpolated value is escaped, Html is kept, arrays are joined, nothing is nothing', () => {
    const v = `<a href="x" onclick='y'>&\``;
    assert.equal(html`<p title="${v}">${v}</p>`.text, '<p title="&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;">&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;</p>');
    assert.equal(html`${[html`<b>${'<'}</b>`, '<']}${null}${undefined}${false}${0}`.text, '<b>&lt;</b>&lt;0');
    assert.equal(html`${raw('<br>')}`.text, '<br>');
  });
  it('property: escaped text has no markup character left, and unescaping gives it back', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const e = escapeHtml(s);
      assert.doesNotMatch(e, /[<>"'`]/);
      const back = e.replace(/&(lt|gt|quot|#39|#96|amp);/g, (_m, n: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', amp: '&' })[n]!);
      assert.equal(back, s);
    }));
  });
});

describe('admin page: sessions', () => {
  it('expire after 30 idle minutes or 12 hours, and end on close or for their user', () => {
    let now = 0;
    const s = new AdminSessions(() => now);
    const a = s.open(1, 'a@example.test');
    now += 29 * 60_000;
    assert.ok(s.find(a.token));
    now += 29 * 60_000;
    assert.ok(s.find(a.token), 'each request restarts the idle time');
    now += 31 * 60_000;
    assert.equal(s.find(a.token), null);
    const b = s.open(2, 'b@example.test');
    for (let i = 0; i < 25; i++) {
      now += 29 * 60_000;
      s.find(b.token);
    }
    assert.equal(s.find(b.token), null, '12 hours at most');
    const c = s.open(3, 'c@example.test');
    s.closeUser(3);
    assert.equal(s.find(c.token), null);
    assert.equal(s.find(undefined), null);
  });
  it('cookies are HttpOnly, SameSite=Strict, scoped to /admin, and Secure over TLS', () => {
    assert.equal(cookie('a', 'b', false), 'a=b; Path=/admin; HttpOnly; SameSite=Strict');
    assert.equal(cookie('a', 'b', true), 'a=b; Path=/admin; HttpOnly; SameSite=Strict; Secure');
    assert.equal(cookie('a', '', true, 0), 'a=; Path=/admin; HttpOnly; SameSite=Strict; Secure; Max-Age=0');
  });
  it('compares tokens exactly', () => {
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abd', 'abc'), false);
    assert.equal(sameToken('ab', 'abc'), false);
    assert.equal(sameToken(null, 'abc'), false);
  });
});
