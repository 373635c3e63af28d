// WireTransform must give the same bytes as sections.ts's toWire for any content, any
// chunking and any <partial> window (property test), since the literal length is announced first.
// binaryData reads only the byte ranges of the part it answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { binarySection, findPart, toWire } from '../../mime/sections.js';
import { indexMessage } from '../../mime/index-message.js';
import type { Store } from '../../store/types.js';
import { applyPartial, binaryData, readAll, WireTransform } from './fetch-body.js';

const bytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a.map((b) => [0x0a, 0x0d, 0x00, 0x41][b % 4] ?? b)));

async function viaStream(data: Buffer, cuts: number[], skip: number, take: number): Promise<Buffer> {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(data.subarray(last, p));
    last = p;
  }
  chunks.push(data.subarray(last));
  return readAll(Readable.from(chunks.filter((c) => c.length > 0)).pipe(new WireTransform(skip, take)));
}

test('WireTransform equals toWire for every chunking', async () => {
  await fc.assert(
    fc.asyncProperty(bytes, fc.array(fc.nat(), { maxLength: 6 }), async (data, cuts) => {
      const wire = toWire(data);
      assert.deepEqual(await viaStream(data, cuts, 0, wire.length), wire);
    }),
    { numRuns: 300 },
  );
});

test('WireTransform applies a <partial> window like applyPartial on the wire bytes', async () => {
  await fc.assert(
    fc.asyncProperty(bytes, fc.array(fc.nat(), { maxLength: 4 }), fc.nat(500), fc.nat(500), async (data, cuts, offset, length) => {
      const wire = toWire(data);
      const expected = applyPartial(wire, { offset, length });
      const skip = Math.min(offset, wire.length);
      const take = Math.max(0, Math.min(length, wire.length - offset));
      assert.deepEqual(await viaStream(data, cuts, skip, take), expected);
    }),
    { numRuns: 300 },
  );
});

test('table: bare LF, CRLF, NUL and a CR at a chunk end', async () => {
  const rows: [string[], string][] = [
    [['a\nb'], 'a\r\nb'],
    [['a\r', '\nb'], 'a\r\nb'],
    [['\n'], '\r\n'],
    [['a\0b'], 'a\x80b'],
    [['x\r\n\n'], 'x\r\n\r\n'],
  ];
  for (const [chunks, want] of rows) {
    const got = await readAll(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(new WireTransform(0, 1000)));
    assert.equal(got.toString('latin1'), want, JSON.stringify(chunks));
  }
});

test('binaryData reads only the part it answers (BINARY[n], BINARY.SIZE[n]), and agrees with the whole-message answer', async () => {
  const raw = Buffer.from(
    'Subject: x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n' +
      '--B\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n' +
      '--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\na\nb\0c\r\n' +
      '--B\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--B--\r\n',
    'latin1',
  );
  const index = indexMessage(raw);
  const reads: [number, number][] = [];
  const store = {
    async openContent(_id: string, start = 0, end = raw.length) {
      reads.push([start, end]);
      return Readable.from([raw.subarray(start, end)]);
    },
  } as unknown as Store;
  const meta = { id: 'c', index, headerText: '' };
  for (const path of [[1], [2], [3], []]) {
    reads.length = 0;
    const got = await binaryData(store, meta, path);
    const whole = binarySection(raw, index, path);
    assert.ok(whole.ok);
    assert.deepEqual(got, whole.bytes, `BINARY[${path.join('.')}]`);
    const part = path.length ? findPart(index, path)! : index.body;
    const want: [number, number][] = path.length ? [[part.headerEnd, part.bodyEnd]] : [[0, part.headerEnd], [part.headerEnd, part.bodyEnd]];
    assert.deepEqual(reads, want, `BINARY[${path.join('.')}] reads`);
  }
  assert.equal((await binaryData(store, meta, [2])).toString('latin1'), 'a\nb\0c'); // RFC 3516 4.2: binary kept as is
});
