import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from './spool.js';

async function text(spool: Spool, prefix = ''): Promise<string> {
  const r = spool.read(Buffer.from(prefix));
  if (Buffer.isBuffer(r)) return r.toString('latin1');
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

describe('Spool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-spool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, bodySize] of [['in memory', 1000], ['in a file', 600 * 1024]] as const) {
    it(`${name}: reads back with a prefix, edits only the header, removes its file`, async () => {
      const spool = new Spool(dir);
      const body = 'x'.repeat(bodySize);
      const msg = `A: 1\r\nB: 2\r\n\r\n${body}`;
      for (let i = 0; i < msg.length; i += 7000) await spool.write(Buffer.from(msg.slice(i, i + 7000), 'latin1'));
      await spool.seal();
      assert.equal(spool.inMemory() !== undefined, bodySize < 256 * 1024);
      assert.equal(await text(spool, 'P: 0\r\n'), `P: 0\r\n${msg}`);
      await spool.editHeader(1024, (h) => h.replace('B: 2', 'B: two'));
      assert.equal(await text(spool), `A: 1\r\nB: two\r\n\r\n${body}`);
      await spool.editHeader(1024, (h) => h); // unchanged: nothing rewritten
      assert.equal((await spool.head(6)).toString(), 'A: 1\r\n');
      await spool.dispose();
      assert.deepEqual(readdirSync(dir), []);
    });
  }
});
