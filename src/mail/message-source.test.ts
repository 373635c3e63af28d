import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { MessageSource, MessageSpool } from './message-source.js';

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function bytesOf(range: ReturnType<MessageSource['blobBytes']>): Promise<Buffer> {
  if (range instanceof Readable) return collect(range);
  return readFileSync(range.path).subarray(range.start, range.end);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('MessageSpool and MessageSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-source-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, bodySize] of [['in memory', 1000], ['in a file', 600 * 1024]] as const) {
    it(`${name}: hashed while written; views with a prefix and a rewritten header; one removal`, async () => {
      const spool = new MessageSpool(dir);
      const body = 'x'.repeat(bodySize);
      const msg = Buffer.from(`A: 1\r\nB: 2\r\n\r\n${body}`, 'latin1');
      for (let i = 0; i < msg.length; i += 7000) await spool.write(msg.subarray(i, i + 7000));
      const source = await spool.seal();
      assert.equal(readdirSync(dir).length, bodySize < 256 * 1024 ? 0 : 1);
      assert.equal(source.knownHash, sha(msg), 'hash from the edge, nothing read back');
      assert.deepEqual(await collect(source.stream()), msg);
      const traced = source.prepend(Buffer.from('P: 0\r\n'));
      assert.equal((await collect(traced.stream())).toString('latin1'), `P: 0\r\n${msg.toString('latin1')}`);
      assert.equal(await traced.sha256(), sha(Buffer.concat([Buffer.from('P: 0\r\n'), msg])));
      const edited = source.replaceHead(12, Buffer.from('A: 1\r\nB: two\r\n'));
      assert.equal((await edited.all()).toString('latin1'), `A: 1\r\nB: two\r\n\r\n${body}`);
      assert.equal((await source.head(6)).toString(), 'A: 1\r\n');
      assert.deepEqual(traced.wholeFiles(), bodySize < 256 * 1024 ? [] : [{ start: 6, end: 6 + msg.length }]);
      await traced.dispose(); // a view removes nothing
      assert.equal(readdirSync(dir).length, bodySize < 256 * 1024 ? 0 : 1);
      await source.dispose();
      await spool.dispose(); // and again: the file is already gone, exactly once
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('a spool disposed before seal (client gone mid-DATA) leaves no file', async () => {
    const spool = new MessageSpool(dir, { memoryLimit: 0 });
    await spool.write(Buffer.from('partial'));
    await spool.dispose();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('fromStream refuses past maxSize and leaves no file', async () => {
    const big = Readable.from([Buffer.alloc(300 * 1024, 0x61), Buffer.alloc(300 * 1024, 0x62)]);
    await assert.rejects(MessageSource.fromStream(big, dir, { maxSize: 400 * 1024 }), /size limit/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a user file is never offered as a file range (it could change after it became a blob)', async () => {
    const path = join(dir, 'user.eml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'Subject: x\r\n\r\nbody\r\n');
    const source = MessageSource.fromFile(path, 20);
    assert.ok(source.blobBytes(0, 20) instanceof Readable);
    assert.deepEqual(source.wholeFiles(), []);
    await source.dispose();
    assert.deepEqual(readdirSync(dir), ['user.eml'], 'not ours: not removed');
    rmSync(path);
  });

  it('every range of every view reads back exactly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(3000),
        fc.tuple(fc.nat(3100), fc.nat(3100)),
        fc.boolean(),
        async (bytes, splits, prefix, headEnd, [a, b], inFile) => {
          const msg = Buffer.from(bytes);
          const spool = new MessageSpool(dir, { memoryLimit: inFile ? 0 : 1 << 20 });
          let pos = 0;
          for (const n of splits) await spool.write(msg.subarray(pos, (pos = Math.min(msg.length, pos + n))));
          await spool.write(msg.subarray(pos));
          const source = await spool.seal();
          try {
            const cut = Math.min(headEnd, msg.length);
            const views: [MessageSource, Buffer][] = [
              [source, msg],
              [source.prepend(Buffer.from(prefix)), Buffer.concat([Buffer.from(prefix), msg])],
              [source.replaceHead(cut, Buffer.from(prefix)), Buffer.concat([Buffer.from(prefix), msg.subarray(cut)])],
            ];
            for (const [view, want] of views) {
              assert.equal(view.size, want.length);
              const start = Math.min(a, b, want.length);
              const end = Math.min(Math.max(a, b), want.length);
              assert.deepEqual(await collect(view.stream(start, end)), want.subarray(start, end));
              assert.deepEqual(await view.read(start, end), want.subarray(start, end));
              assert.deepEqual(await bytesOf(view.blobBytes(start, end)), want.subarray(start, end));
              assert.equal(await view.sha256(), sha(want));
            }
          } finally {
            await spool.dispose();
          }
          assert.deepEqual(readdirSync(dir), []);
        },
      ),
      { numRuns: 150 },
    );
  });
});
