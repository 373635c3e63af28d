import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCommand, parseLineCount, parseMessageNumber } from './command.js';
import { DotStuffer, dotStuff } from './dot-stuff.js';

describe('parseCommand', () => {
  const good: [string, string, string[], string][] = [
    ['USER alice@example.test', 'USER', ['alice@example.test'], 'alice@example.test'],
    ['user alice', 'USER', ['alice'], 'alice'],
    ['PASS pass with spaces', 'PASS', ['pass', 'with', 'spaces'], 'pass with spaces'],
    ['PASS  lead', 'PASS', ['lead'], ' lead'],
    ['STAT', 'STAT', [], ''],
    ['list 3', 'LIST', ['3'], '3'],
    ['TOP 1 10', 'TOP', ['1', '10'], '1 10'],
    ['Retr 1', 'RETR', ['1'], '1'],
    ['AUTH PLAIN AGFsaWNlAHNlY3JldA==', 'AUTH', ['PLAIN', 'AGFsaWNlAHNlY3JldA=='], 'PLAIN AGFsaWNlAHNlY3JldA=='],
    ['capa', 'CAPA', [], ''],
    ['QUIT ', 'QUIT', [], ''],
  ];
  for (const [line, keyword, args, rest] of good) {
    it(`${JSON.stringify(line)} → ${keyword}`, () => {
      const r = parseCommand(line);
      assert.ok(r.ok);
      assert.deepEqual(r.command, { keyword, args, rest });
    });
  }
  const bad: [string, string][] = [
    ['', 'empty command line'],
    ['   ', 'empty command line'],
    ['FOO', 'unknown command FOO'],
    ['XTND XMIT', 'unknown command XTND'],
    ['\u00e9t\u00e9 1', 'unknown command'],
    ['A'.repeat(30), 'unknown command'],
  ];
  for (const [line, error] of bad) {
    it(`${JSON.stringify(line)} → ${error}`, () => assert.deepEqual(parseCommand(line), { ok: false, error }));
  }
  it('never throws (fuzz)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      const r = parseCommand(s);
      assert.equal(typeof r.ok, 'boolean');
    }), { numRuns: 2000 });
  });
});

describe('message numbers', () => {
  const table: [string | undefined, number | null, number | null][] = [
    ['1', 1, 1], ['007', 7, 7], ['0', null, 0], ['-1', null, null], ['+1', null, null], ['1.0', null, null],
    ['', null, null], [undefined, null, null], ['1e3', null, null], ['1234567890', null, null], ['123456789', 123456789, 123456789], [' 1', null, null],
  ];
  for (const [text, msg, lines] of table) {
    it(`${JSON.stringify(text)} → msg ${msg}, lines ${lines}`, () => {
      assert.equal(parseMessageNumber(text), msg);
      assert.equal(parseLineCount(text), lines);
    });
  }
});

describe('DotStuffer', () => {
  const table: [string, string, number | null][] = [
    ['a\r\nb\r\n', 'a\r\nb\r\n.\r\n', null],
    ['a\nb\n', 'a\r\nb\r\n.\r\n', null],
    ['.x\r\n..y\r\nz.\r\n.', '..x\r\n...y\r\nz.\r\n..\r\n.\r\n', null],
    ['no end', 'no end\r\n.\r\n', null],
    ['bare\rCR\r\n', 'bare\rCR\r\n.\r\n', null],
    ['', '.\r\n', null],
    ['1\n2\n3\n', '1\r\n.\r\n', 1],
    ['1\n2\n3\n', '.\r\n', 0],
    ['1\n.2\n3', '1\r\n..2\r\n3\r\n.\r\n', 5],
  ];
  const crlfTable: [string, string, number | null][] = [
    ['.a\r\n.\r\n..\r\nb.c\r\n', '..a\r\n..\r\n...\r\nb.c\r\n.\r\n', null],
    ['x\r\n.y\r\n.z', 'x\r\n..y\r\n.\r\n', 2],
    ['no end', 'no end\r\n.\r\n', null],
  ];
  for (const [input, output, lines] of crlfTable) {
    it(`crlfOnly ${JSON.stringify(input)} (lines ${lines}) → ${JSON.stringify(output)}`, () => assert.equal(dotStuff(Buffer.from(input), lines, true).toString('latin1'), output));
  }
  for (const [input, output, lines] of table) {
    it(`${JSON.stringify(input)} (lines ${lines}) → ${JSON.stringify(output)}`, () => assert.equal(dotStuff(Buffer.from(input), lines).toString('latin1'), output));
  }

  /** The byte-at-a-time encoder the indexOf version replaced: the oracle for the fuzz below. */
  function referenceStuff(raw: Buffer, bodyLines: number | null): Buffer {
    const out: number[] = [];
    let atLineStart = true;
    let prevCr = false;
    let left = bodyLines;
    if (left !== 0) {
      for (const b of raw) {
        if (atLineStart && b === 0x2e) out.push(0x2e);
        if (b === 0x0a && !prevCr) out.push(0x0d);
        out.push(b);
        prevCr = b === 0x0d;
        atLineStart = b === 0x0a;
        if (b === 0x0a && left !== null && --left === 0) break;
      }
    }
    return Buffer.concat([Buffer.from(out), Buffer.from(atLineStart ? '.\r\n' : '\r\n.\r\n')]);
  }

  it('fuzz: equals the byte-at-a-time reference for any chunking and line limit (dot/CR/LF-heavy input)', () => {
    const byte = fc.constantFrom(0x2e, 0x0d, 0x0a, 0x61, 0x2e, 0x0a);
    fc.assert(fc.property(fc.array(byte, { maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 6 }), fc.option(fc.integer({ min: 0, max: 40 })), (bytes, cuts, lines) => {
      const raw = Buffer.from(bytes);
      const s = new DotStuffer(lines);
      const points = [0, ...cuts.map((c) => Math.min(c, raw.length)).sort((a, b) => a - b), raw.length];
      const parts: Buffer[] = [];
      for (let i = 1; i < points.length; i++) parts.push(s.encode(raw.subarray(points[i - 1], points[i])));
      parts.push(s.finish());
      assert.deepEqual(Buffer.concat(parts), referenceStuff(raw, lines));
    }), { numRuns: 3000 });
  });

  it('fuzz: crlfOnly (input without bare LF) equals the reference for any chunking and line limit', () => {
    const byte = fc.constantFrom(0x2e, 0x0d, 0x0a, 0x61, 0x2e, 0x0a);
    fc.assert(fc.property(fc.array(byte, { maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 330 }), { maxLength: 6 }), fc.option(fc.integer({ min: 0, max: 40 })), (bytes, cuts, lines) => {
      const crlf: number[] = [];
      for (const b of bytes) {
        if (b === 0x0a && crlf[crlf.length - 1] !== 0x0d) crlf.push(0x0d); // no bare LF: the promise crlfOnly relies on
        crlf.push(b);
      }
      const raw = Buffer.from(crlf);
      const s = new DotStuffer(lines, true);
      const points = [0, ...cuts.map((c) => Math.min(c, raw.length)).sort((a, b) => a - b), raw.length];
      const parts: Buffer[] = [];
      for (let i = 1; i < points.length; i++) parts.push(s.encode(raw.subarray(points[i - 1], points[i])));
      parts.push(s.finish());
      assert.deepEqual(Buffer.concat(parts), referenceStuff(raw, lines));
    }), { numRuns: 3000 });
  });

  it('fuzz: chunking does not matter; unstuffed output equals the CRLF form; octets = raw + bare LFs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 5 }), (bytes, cuts) => {
      const raw = Buffer.from(bytes);
      const whole = dotStuff(raw);
      const s = new DotStuffer();
      const points = [0, ...cuts.map((c) => Math.min(c, raw.length)).sort((a, b) => a - b), raw.length];
      const parts: Buffer[] = [];
      for (let i = 1; i < points.length; i++) parts.push(s.encode(raw.subarray(points[i - 1], points[i])));
      parts.push(s.finish());
      assert.deepEqual(Buffer.concat(parts), whole);
      // A client undoes the stuffing: drop the terminator and one leading "." per line.
      const text = whole.toString('latin1');
      const body = text.endsWith('\r\n.\r\n') ? text.slice(0, -3) : text.slice(0, -3);
      const unstuffed = body.split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
      let bare = 0;
      for (let i = 0; i < raw.length; i++) if (raw[i] === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) bare++;
      const expectedLen = raw.length + bare;
      const endsWithLf = raw.length > 0 && raw[raw.length - 1] === 0x0a;
      assert.equal(Buffer.from(unstuffed, 'latin1').length - (endsWithLf || raw.length === 0 ? 0 : 2), expectedLen);
    }), { numRuns: 1000 });
  });
});
