import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataDecoder } from './data-decoder.js';

/** Feeds chunks; returns the decoded bytes and what came after the terminator. */
function run(chunks: Buffer[], opts: { mode: 'dot' | 'raw'; binary: boolean } = { mode: 'dot', binary: false }) {
  const d = new DataDecoder(opts);
  const out: Buffer[] = [];
  let rest: Buffer | null = null;
  for (const c of chunks) {
    if (rest) {
      rest = Buffer.concat([rest, c]);
      continue;
    }
    const r = d.push(c);
    out.push(r.out);
    if (r.end >= 0) rest = c.subarray(r.end);
  }
  if (opts.mode === 'raw') out.push(d.flush());
  return { data: Buffer.concat(out).toString('latin1'), rest: rest?.toString('latin1') ?? null, d };
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** `wire` cut into pieces of the given lengths, taken in turn. */
function chunked(wire: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let pos = 0, i = 0; pos < wire.length; i++) {
    chunks.push(wire.subarray(pos, pos + cuts[i % cuts.length]));
    pos += cuts[i % cuts.length];
  }
  return chunks;
}

describe('DataDecoder (DATA)', () => {
  const rows: [string, string, string | null][] = [
    ['Subject: x\r\n\r\nbody\r\n.\r\n', 'Subject: x\r\n\r\nbody\r\n', ''],
    ['.\r\n', '', ''],
    ['a\r\n..b\r\n.\r\n', 'a\r\n.b\r\n', ''],
    ['a\r\n...\r\n.\r\nQUIT\r\n', 'a\r\n..\r\n', 'QUIT\r\n'],
    ['a\n.\nb\r\n.\r\n', 'a\r\n\r\nb\r\n', ''], // bare LF never ends DATA; stored as CRLF
    ['a\r\n.\nb\r\n.\r\n', 'a\r\n\r\nb\r\n', ''],
    ['a\rb\r\n.\r\n', 'a\rb\r\n', ''], // bare CR kept
    ['a\r\n.x\r\n.\r\n', 'a\r\nx\r\n', ''],
    ['a\r\n.\rb\r\n.\r\n', 'a\r\n\rb\r\n', ''],
    ['no end\r\n', 'no end\r\n', null],
  ];
  for (const [input, want, rest] of rows) {
    it(JSON.stringify(input), () => {
      const whole = run([b(input)]);
      assert.equal(whole.data, want);
      assert.equal(whole.rest, rest);
      // Byte by byte and at every two-chunk split the result is the same.
      assert.equal(run([...b(input)].map((x) => Buffer.from([x]))).data, want);
      for (let i = 0; i <= input.length; i++) assert.equal(run([b(input.slice(0, i)), b(input.slice(i))]).data, want, `split at ${i}`);
    });
  }
  it('reports bare LF, NUL and long lines', () => {
    const r = run([b(`a\nb\0c\r\n${'x'.repeat(999)}\r\n.\r\n`)]);
    assert.deepEqual(r.d.problems, { longestLine: 999, nul: true, bareLf: true });
    assert.match(r.d.refusal()!.text, /NUL/);
    assert.match(run([b(`${'x'.repeat(999)}\r\n.\r\n`)]).d.refusal()!.text, /998/);
    assert.equal(run([b(`${'x'.repeat(998)}\r\n.\r\n`)]).d.refusal(), null);
  });
  it('counts the decoded size', () => assert.equal(run([b('ab\r\n..\r\n.\r\n')]).d.size, 7));
});

describe('DataDecoder (BDAT)', () => {
  it('keeps dots and normalises bare LF', () => assert.equal(run([b('.a\n.\r\n')], { mode: 'raw', binary: false }).data, '.a\r\n.\r\n'));
  it('a CR split from its LF across chunks is one line end', () => assert.equal(run([b('a\r'), b('\nb')], { mode: 'raw', binary: false }).data, 'a\r\nb'));
  it('a trailing CR is flushed', () => assert.equal(run([b('a\r')], { mode: 'raw', binary: false }).data, 'a\r'));
  it('BINARYMIME bytes are untouched and never refused', () => {
    const raw = '\0\n\r.\r\n' + 'y'.repeat(2000);
    const r = run([b(raw)], { mode: 'raw', binary: true });
    assert.equal(r.data, raw);
    assert.equal(r.d.refusal(), null);
  });
});

describe('DataDecoder properties', () => {
  const line = fc.stringMatching(/^[ -~]{0,40}$/);
  it('dot-stuffing round-trips at any chunking', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (lines, cuts) => {
        const message = lines.map((l) => `${l}\r\n`).join('');
        const wire = b(message.replace(/^\./gm, '..') + '.\r\nNEXT');
        const r = run(chunked(wire, cuts));
        assert.equal(r.data, message);
        assert.equal(r.rest, 'NEXT');
      }),
      { numRuns: 1000 },
    );
  });
  it('never throws and never outputs a bare LF outside BINARYMIME', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = run([Buffer.from(bytes)], { mode: 'raw', binary: false });
        assert.ok(!/(^|[^\r])\n/.test(r.data));
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * The rules written the plain way, a byte at a time over the whole input: what the decoder
 * must give at any chunking. Dot mode expects the input to hold a terminator.
 */
function model(input: Buffer, mode: 'dot' | 'raw') {
  const out: number[] = [];
  let lineLength = 0;
  let longestLine = 0;
  let bareLf = false;
  let nul = false;
  let atStart = true;
  let end = -1;
  for (let i = 0; i < input.length; i++) {
    if (mode === 'dot' && atStart && input[i] === 0x2e) {
      if (input[i + 1] === 0x0d && input[i + 2] === 0x0a) {
        end = i + 3;
        break;
      }
      atStart = false; // a leading dot is removed (RFC 5321 4.5.2)
      continue;
    }
    const c = input[i];
    if (c === 0x0a || (c === 0x0d && input[i + 1] === 0x0a)) {
      if (c === 0x0a) bareLf = true;
      else i++;
      out.push(0x0d, 0x0a);
      longestLine = Math.max(longestLine, lineLength);
      lineLength = 0;
      atStart = true;
      continue;
    }
    if (c === 0) nul = true;
    out.push(c);
    lineLength++;
    atStart = false;
  }
  return { data: Buffer.from(out).toString('latin1'), end, bareLf, nul, longestLine };
}

describe('DataDecoder against a plain model', () => {
  // Bytes that matter to the rules, often; long runs of ordinary ones, sometimes.
  const piece = fc.oneof(fc.constantFrom('.', '\r', '\n', '\r\n', '\r\n.', '\0', 'a', '.\r'), fc.stringMatching(/^[ -~]{1,60}$/));
  const cutsOf = fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 8 });

  it('DATA: same bytes, end, line lengths, bare LF and NUL at any chunking', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.string({ maxLength: 8 }), cutsOf, (pieces, tail, cuts) => {
        const wire = b(pieces.join('') + '\r\n.\r\n' + tail);
        const want = model(wire, 'dot');
        const d = new DataDecoder({ mode: 'dot', binary: false });
        const out: Buffer[] = [];
        let offset = 0;
        let end = -1;
        for (const c of chunked(wire, cuts)) {
          const r = d.push(c);
          out.push(r.out);
          if (r.end >= 0) {
            end = offset + r.end;
            break;
          }
          offset += c.length;
        }
        assert.deepEqual(
          { data: Buffer.concat(out).toString('latin1'), end, bareLf: d.problems.bareLf, nul: d.problems.nul, longestLine: d.problems.longestLine },
          want,
        );
        assert.equal(d.size, Buffer.byteLength(want.data, 'latin1'));
      }),
      { numRuns: 3000 },
    );
  });

  it('BDAT: same bytes, line lengths, bare LF and NUL at any chunking', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), cutsOf, (pieces, cuts) => {
        const wire = b(pieces.join(''));
        const want = model(wire, 'raw');
        const r = run(chunked(wire, cuts), { mode: 'raw', binary: false });
        assert.deepEqual({ data: r.data, end: -1, bareLf: r.d.problems.bareLf, nul: r.d.problems.nul, longestLine: r.d.problems.longestLine }, want);
      }),
      { numRuns: 3000 },
    );
  });
});
