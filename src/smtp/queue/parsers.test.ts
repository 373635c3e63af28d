// Network input the queue reads by hand: remote reply text (enhanced status codes,
// statusOf) and DNS answers (routeFor). The SMTP reply grammar itself (multi-line
// replies, codes) is parsed by nodemailer's SMTPConnection, not by us.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { routeFor, type MxRecord, type QueueResolver } from './routes.js';
import { backoffMs, statusOf } from './worker.js';

describe('statusOf: the enhanced status code of a remote reply (RFC 3463)', () => {
  const table: [number | null, string, string][] = [
    [550, '550 5.1.1 <bad@remote.test>: no such user', '5.1.1'],
    [250, '250 2.0.0 Ok: queued as 12345', '2.0.0'],
    [250, '250 Ok', '2.0.0'],
    [451, '451 try again later', '4.0.0'],
    [554, '554 transaction failed', '5.0.0'],
    [452, '452-4.2.2 mailbox full\r\n452 4.2.2 really', '4.2.2'],
    [550, '550-5.7.1 first line', '5.7.1'],
    [250, '250 5.1.1 contradicts the reply code', '2.0.0'],
    [550, '550 2.0.0 contradicts the reply code', '5.0.0'],
    [550, '550 version 5.1.1000 is not a code', '5.0.0'],
    [550, '550 see 5.1.1.2 for details', '5.0.0'],
    [550, '550 5.01.001 leading zeros', '5.1.1'],
    [null, 'connect ECONNREFUSED 127.0.0.1:25', '4.0.0'],
    [null, 'greeting never came; 5.0.0 in text', '5.0.0'],
    [null, 'odd text 2.0.0 without a reply', '4.0.0'],
    [421, '421 4.7.0 too many connections', '4.7.0'],
    [999, '999 5.1.1 bogus code', '5.1.1'],
  ];
  for (const [code, text, want] of table) {
    it(`${code} ${JSON.stringify(text.slice(0, 40))} → ${want}`, () => assert.equal(statusOf(code, text), want));
  }

  it('always returns a well-formed code of the reply\'s class, whatever the remote sends (fast-check)', () => {
    const code = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1000 }));
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 1200 }), fc.string({ maxLength: 20 })).map(([a, b, c, rest]) => `${a}.${b}.${c}${rest}`),
    );
    fc.assert(
      fc.property(code, text, (c, t) => {
        const s = statusOf(c, t);
        assert.match(s, /^[245]\.\d{1,3}\.\d{1,3}$/);
        if (c !== null && c >= 200 && c < 600) {
          const cls = Math.floor(c / 100);
          assert.equal(s[0], String(cls === 3 ? 4 : cls), `${c} ${t} → ${s}`);
        }
        if (c === null) assert.notEqual(s[0], '2', 'no success without a reply');
      }),
      { numRuns: 3000 },
    );
  });

  it('finds a code of the right class anywhere after a space or hyphen (fast-check)', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 4, 5), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.string({ maxLength: 30 }).filter((x) => !/[\d.]/.test(x[0] ?? '')), (cls, b, c, tail) => {
        assert.equal(statusOf(cls * 100 + 50, `${cls}50 ${cls}.${b}.${c}${tail}`), `${cls}.${b}.${c}`);
      }),
    );
  });

  it('backoff doubles from the initial wait and stops at the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 10, 100].map((n) => backoffMs(n, 300, 14400) / 1000), [300, 600, 1200, 2400, 14400, 14400]);
  });
});

describe('routeFor: MX answers from DNS (RFC 5321 5.1, RFC 7505)', () => {
  const fail = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));
  const resolver = (mx: MxRecord[] | string, hosts: Record<string, string[] | string>): QueueResolver => ({
    resolveMx: () => (typeof mx === 'string' ? fail(mx) : Promise.resolve(mx)),
    resolve4: (h) => {
      const a = hosts[h.toLowerCase()];
      return a === undefined ? fail('ENOTFOUND') : typeof a === 'string' ? fail(a) : Promise.resolve(a);
    },
    resolve6: () => fail('ENODATA'),
  });
  const opts = { port: 25, routes: new Map<string, { host: string; port: number }>() };

  it('orders MX hosts by preference and drops the trailing dot', async () => {
    const r = await routeFor('x.test', resolver([{ exchange: 'b.x.test.', priority: 20 }, { exchange: 'a.x.test', priority: 10 }], { 'a.x.test': ['192.0.2.1'], 'b.x.test': ['192.0.2.2', '192.0.2.3'] }), opts);
    assert.deepEqual(r, { hops: [{ name: 'a.x.test', address: '192.0.2.1', port: 25 }, { name: 'b.x.test', address: '192.0.2.2', port: 25 }, { name: 'b.x.test', address: '192.0.2.3', port: 25 }] });
  });
  it('null MX → permanent 5.1.10; no MX → implicit MX; lookup failure → temporary 4.4.3', async () => {
    assert.deepEqual(await routeFor('x.test', resolver([{ exchange: '.', priority: 0 }], {}), opts), { error: 'x.test does not accept mail (null MX)', permanent: true, status: '5.1.10' });
    assert.deepEqual(await routeFor('x.test', resolver('ENODATA', { 'x.test': ['192.0.2.9'] }), opts), { hops: [{ name: 'x.test', address: '192.0.2.9', port: 25 }] });
    const tmp = await routeFor('x.test', resolver('ESERVFAIL', {}), opts);
    assert.ok('error' in tmp && !tmp.permanent && tmp.status === '4.4.3');
    const addrFail = await routeFor('x.test', resolver([{ exchange: 'a.x.test', priority: 1 }], { 'a.x.test': 'ETIMEOUT' }), opts);
    assert.ok('error' in addrFail && !addrFail.permanent, 'a timeout on the address lookup is retried');
  });

  it('never throws and always answers consistently, whatever DNS returns (fast-check)', async () => {
    const name = fc.oneof(fc.constantFrom('a.x.test', 'b.x.test', 'A.X.TEST.', '.', '', 'x.test'), fc.string({ maxLength: 30 }));
    const mx = fc.oneof(
      fc.constantFrom('ENODATA', 'ENOTFOUND', 'ESERVFAIL', 'ETIMEOUT', 'EREFUSED', ''),
      fc.array(fc.record({ exchange: name, priority: fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constant(Number.NaN)) }), { maxLength: 6 }),
    );
    const addrs = fc.oneof(fc.constantFrom('ENODATA', 'ETIMEOUT', 'ENOTFOUND'), fc.array(fc.ipV4(), { maxLength: 3 }));
    const hosts = fc.dictionary(name.map((n) => n.toLowerCase()), addrs, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(mx, hosts, async (m, h) => {
        const r = await routeFor('x.test', resolver(m, h), opts);
        if ('hops' in r) {
          assert.ok(r.hops.length > 0);
          for (const hop of r.hops) {
            assert.equal(hop.port, 25);
            assert.ok(!hop.name.endsWith('.') || hop.name === '.', `name ${hop.name}`);
            assert.equal(typeof hop.address, 'string');
          }
        } else {
          assert.match(r.status, /^[45]\.\d+\.\d+$/);
          assert.equal(r.permanent, r.status.startsWith('5'), `${r.status} permanent=${r.permanent}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
