import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { crc32, ZipError, ZipReader, ZipWriter } from './zip.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zip-test-')), 'a.zip');

test('crc32 of known strings', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ];
  for (const [s, want] of cases) assert.equal(crc32(Buffer.from(s)), want, s);
});

test('property: any entries round-trip with names, bytes and times (2 s resolution)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 40 }), data: fc.uint8Array({ maxLength: 3000 }), repeat: fc.nat(3) }), { maxLength: 12 }),
      fc.date({ min: new Date('1980-01-01T00:00:00Z'), max: new Date('2100-12-31T23:59:58Z'), noInvalidDate: true }),
      (entries, when) => {
        const file = tmp();
        const w = new ZipWriter(file);
        const datas = entries.map((e) => Buffer.concat(Array.from({ length: e.repeat + 1 }, () => Buffer.from(e.data))));
        entries.forEach((e, i) => w.add(e.name, datas[i], when));
        w.close();
        const r = new ZipReader(file);
        try {
          assert.equal(r.entries.length, entries.length);
          r.entries.forEach((e, i) => {
            assert.equal(e.name, entries[i].name);
            assert.ok(r.read(e).equals(datas[i]));
            assert.equal(e.modified.getTime(), Math.floor(when.getTime() / 2000) * 2000);
          });
        } finally {
          r.close();
          fs.rmSync(path.dirname(file), { recursive: true });
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('a damaged entry is refused by its CRC; a non-zip is refused', () => {
  const file = tmp();
  const w = new ZipWriter(file);
  w.add('m.eml', Buffer.from('Subject: x\r\n\r\n' + 'hello '.repeat(100)), new Date());
  w.close();
  const bytes = fs.readFileSync(file);
  bytes[40] ^= 0x55; // inside the deflated data
  fs.writeFileSync(file, bytes);
  const r = new ZipReader(file);
  assert.throws(() => r.read(r.entries[0]), (e: unknown) => e instanceof Error);
  r.close();
  fs.writeFileSync(file, 'not a zip at all');
  assert.throws(() => new ZipReader(file), ZipError);
});

test('more than 65,535 entries: zip64 end records, read back here and by python zipfile', () => {
  const file = tmp();
  const w = new ZipWriter(file);
  const n = 65_600;
  for (let i = 0; i < n; i++) w.add(`d/${i}.eml`, Buffer.from(String(i)), new Date('2026-01-01T00:00:00Z'));
  w.close();
  const r = new ZipReader(file);
  assert.equal(r.entries.length, n);
  assert.equal(r.read(r.entries[n - 1]).toString(), String(n - 1));
  r.close();
  const out = execFileSync('python3', ['-c', 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), z.read("d/65599.eml").decode(), z.testzip())', file]).toString();
  assert.equal(out.trim(), `${n} 65599 None`);
});
