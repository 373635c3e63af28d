import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isTrusted, parseProxyHeader, parseTrustedNetworks, V2_SIGNATURE, type ProxyParse } from './proxy-protocol.js';

/** A v2 header: command (0 LOCAL, 1 PROXY), family/protocol byte, address block. */
function v2(cmd: number, fam: number, block: Buffer, version = 2): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(block.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([(version << 4) | cmd, fam]), len, block]);
}

function ipv4Block(src: number[], dst: number[], sport: number, dport: number, tlv = Buffer.alloc(0)): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sport, 0);
  ports.writeUInt16BE(dport, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports, tlv]);
}

function ipv6Block(src: number[], sport: number): Buffer {
  const b = Buffer.alloc(36);
  src.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  b.writeUInt16BE(sport, 32);
  return b;
}

const ok = (address: string, port: number, consumed: number, version: 1 | 2): ProxyParse => ({ kind: 'ok', consumed, version, source: { address, port } });

describe('parseProxyHeader', () => {
  const v1 = (s: string) => Buffer.from(s, 'latin1');
  const rows: [string, Buffer, ProxyParse | string][] = [
    ['v1 TCP4', v1('PROXY TCP4 203.0.113.7 192.0.2.1 56324 143\r\n'), ok('203.0.113.7', 56324, 44, 1)],
    ['v1 TCP4 with protocol bytes after', v1('PROXY TCP4 203.0.113.7 192.0.2.1 56324 143\r\na1 LOGIN'), ok('203.0.113.7', 56324, 44, 1)],
    ['v1 TCP6', v1('PROXY TCP6 2001:db8::7 2001:db8::1 65535 993\r\n'), ok('2001:db8::7', 65535, 'PROXY TCP6 2001:db8::7 2001:db8::1 65535 993\r\n'.length, 1)],
    ['v1 UNKNOWN', v1('PROXY UNKNOWN\r\n'), { kind: 'ok', consumed: 15, version: 1, source: null }],
    ['v1 UNKNOWN with addresses', v1('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'), { kind: 'ok', consumed: 35, version: 1, source: null }],
    ['v1 prefix only', v1('PROX'), { kind: 'incomplete' }],
    ['v1 without CRLF yet', v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2'), { kind: 'incomplete' }],
    ['v1 family mismatch', v1('PROXY TCP4 2001:db8::7 192.0.2.1 1 2\r\n'), 'address does not match'],
    ['v1 bad port', v1('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'port'],
    ['v1 leading zero port', v1('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), 'port'],
    ['v1 UDP', v1('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'not TCP4'],
    ['v1 missing field', v1('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), '6 fields'],
    ['v1 double space', v1('PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'), '6 fields'],
    ['v1 too long', v1(`PROXY TCP4 ${'1'.repeat(120)}`), 'longer than 107'],
    ['no header at all', v1('a1 LOGIN alice secret\r\n'), 'no PROXY header'],
    ['TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10]), 'no PROXY header'],
    ['v2 PROXY TCP4', v2(1, 0x11, ipv4Block([198, 51, 100, 9], [192, 0, 2, 1], 40000, 993)), ok('198.51.100.9', 40000, 28, 2)],
    ['v2 with TLVs', v2(1, 0x11, ipv4Block([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, Buffer.from([0x04, 0x00, 0x02, 0xab, 0xcd]))), ok('10.0.0.1', 1, 33, 2)],
    ['v2 PROXY TCP6', v2(1, 0x21, ipv6Block([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42], 5000)), ok('2001:db8::42', 5000, 52, 2)],
    ['v2 v4-mapped TCP6', v2(1, 0x21, ipv6Block([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304], 7)), ok('::ffff:1.2.3.4', 7, 52, 2)],
    ['v2 LOCAL', v2(0, 0x00, Buffer.alloc(0)), { kind: 'ok', consumed: 16, version: 2, source: null }],
    ['v2 UNSPEC', v2(1, 0x00, Buffer.alloc(0)), { kind: 'ok', consumed: 16, version: 2, source: null }],
    ['v2 AF_UNIX', v2(1, 0x31, Buffer.alloc(216)), { kind: 'ok', consumed: 232, version: 2, source: null }],
    ['v2 truncated body', v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)).subarray(0, 20), { kind: 'incomplete' }],
    ['v2 signature only', V2_SIGNATURE, { kind: 'incomplete' }],
    ['v2 short IPv4 block', v2(1, 0x11, Buffer.alloc(8)), 'shorter than 12'],
    ['v2 short IPv6 block', v2(1, 0x21, Buffer.alloc(20)), 'shorter than 36'],
    ['v2 version 1', v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), 1), 'version'],
    ['v2 command 2', v2(2, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), 'command'],
  ];
  for (const [name, input, expected] of rows) {
    it(name, () => {
      const r = parseProxyHeader(input);
      if (typeof expected === 'string') {
        assert.equal(r.kind, 'error', JSON.stringify(r));
        assert.match((r as { reason: string }).reason, new RegExp(expected));
      } else assert.deepEqual(r, expected);
    });
  }

  it('fed byte by byte, every header is incomplete until its last byte, then the same verdict', () => {
    for (const [name, input, expected] of rows) {
      if (typeof expected === 'string' || expected.kind !== 'ok') continue;
      for (let i = 1; i < expected.consumed; i++) assert.deepEqual(parseProxyHeader(input.subarray(0, i)), { kind: 'incomplete' }, `${name} at ${i}`);
      assert.deepEqual(parseProxyHeader(input.subarray(0, expected.consumed)), expected, name);
    }
  });

  it('fuzz: never throws, never consumes more than it was given, and bounded input always decides', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 120 }).map((s) => new TextEncoder().encode(`PROXY ${s}`)),
        fc.uint8Array({ maxLength: 80 }).map((b) => new Uint8Array([...V2_SIGNATURE, ...b]))), (bytes) => {
        const r = parseProxyHeader(Buffer.from(bytes));
        if (r.kind === 'ok') assert.ok(r.consumed <= bytes.length && r.consumed >= 15);
        if (r.kind === 'incomplete') assert.ok(bytes.length < 107 || bytes[0] === 0x0d, 'a v1 candidate decides within 107 bytes');
      }),
      { numRuns: 3000 },
    );
  });

  it('fuzz: any TCP4/TCP6 v1 and v2 header round-trips the address and port', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65535 }), fc.boolean(), (ip, port, binary) => {
        const input = binary
          ? v2(1, 0x11, ipv4Block(ip.split('.').map(Number), [127, 0, 0, 1], port, 143))
          : Buffer.from(`PROXY TCP4 ${ip} 127.0.0.1 ${port} 143\r\n`);
        const r = parseProxyHeader(input);
        assert.deepEqual(r.kind === 'ok' && r.source, { address: ip, port });
      }),
    );
  });
});

describe('trusted networks', () => {
  it('matches CIDRs of both families and v4-mapped peers', () => {
    const list = parseTrustedNetworks('10.0.0.0/8, 192.0.2.7, 2001:db8::/32');
    assert.equal(isTrusted(list, '10.1.2.3'), true);
    assert.equal(isTrusted(list, '::ffff:10.1.2.3'), true);
    assert.equal(isTrusted(list, '192.0.2.7'), true);
    assert.equal(isTrusted(list, '192.0.2.8'), false);
    assert.equal(isTrusted(list, '2001:db8:1::5'), true);
    assert.equal(isTrusted(list, '2001:db9::5'), false);
    assert.equal(isTrusted(list, undefined), false);
  });
  for (const bad of ['10.0.0.0/33', 'nonsense', '::1/129', '1.2.3.4/8/1', '10.0.0.0/']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseTrustedNetworks(bad), /invalid network/));
  }
});
