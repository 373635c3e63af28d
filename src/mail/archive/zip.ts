/**
 * A minimal zip container (PKWARE APPNOTE 6.3): writes entries one at a time to a file,
 * deflated with node:zlib (stored when deflate does not help), and reads them back through
 * the central directory, checking each CRC-32. Zip64 records are written only when needed
 * (more than 65,535 entries, or an offset past 4 GiB), so ordinary archives open anywhere.
 *
 * Not supported (refused with an error on read): encryption, split archives, methods other
 * than store and deflate. Names are UTF-8 (flag bit 11).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipError extends Error {}

const UTF8 = 0x0800;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

interface Written {
  name: Buffer;
  method: number;
  time: number;
  date: number;
  crc: number;
  csize: number;
  size: number;
  offset: number;
}

/** DOS date and time (2-second resolution, 1980–2107), from UTC. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export class ZipWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly entries: Written[] = [];

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'wx', 0o600);
  }

  private write(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    this.offset += buf.length;
  }

  add(name: string, data: Buffer, modified: Date): void {
    if (data.length >= MAX32) throw new ZipError(`${name}: entries of 4 GiB or more are not supported`);
    const deflated = zlib.deflateRawSync(data, { level: 6 });
    const method = deflated.length < data.length ? 8 : 0;
    const body = method === 8 ? deflated : data;
    const { time, date } = dosDateTime(modified);
    const e: Written = { name: Buffer.from(name, 'utf8'), method, time, date, crc: crc32(data), csize: body.length, size: data.length, offset: this.offset };
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(UTF8, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt16LE(time, 10);
    h.writeUInt16LE(date, 12);
    h.writeUInt32LE(e.crc, 14);
    h.writeUInt32LE(e.csize, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(e.name.length, 26);
    h.writeUInt16LE(0, 28);
    this.write(Buffer.concat([h, e.name]));
    this.write(body);
    this.entries.push(e);
  }

  /** Writes the central directory and end records, fsyncs and closes. */
  close(): void {
    const cdStart = this.offset;
    for (const e of this.entries) {
      const big = e.offset >= MAX32;
      const extra = big ? Buffer.alloc(12) : Buffer.alloc(0);
      if (big) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(8, 2);
        extra.writeBigUInt64LE(BigInt(e.offset), 4);
      }
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, 4.5
      h.writeUInt16LE(big ? 45 : 20, 6);
      h.writeUInt16LE(UTF8, 8);
      h.writeUInt16LE(e.method, 10);
      h.writeUInt16LE(e.time, 12);
      h.writeUInt16LE(e.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.csize, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(extra.length, 30);
      h.writeUInt32LE((0o100600 << 16) >>> 0, 38);
      h.writeUInt32LE(big ? MAX32 : e.offset, 42);
      this.write(Buffer.concat([h, e.name, extra]));
    }
    const cdSize = this.offset - cdStart;
    const count = this.entries.length;
    if (count > MAX16 || cdStart >= MAX32 || cdSize >= MAX32) {
      const z64 = this.offset;
      const r = Buffer.alloc(56);
      r.writeUInt32LE(0x06064b50, 0);
      r.writeBigUInt64LE(44n, 4);
      r.writeUInt16LE(45, 12);
      r.writeUInt16LE(45, 14);
      r.writeBigUInt64LE(BigInt(count), 24);
      r.writeBigUInt64LE(BigInt(count), 32);
      r.writeBigUInt64LE(BigInt(cdSize), 40);
      r.writeBigUInt64LE(BigInt(cdStart), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(z64), 8);
      loc.writeUInt32LE(1, 16);
      this.write(Buffer.concat([r, loc]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
    end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
    this.write(end);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  /** Closes without the directory and removes the file (a failed export leaves nothing behind). */
  abort(): void {
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  csize: number;
  size: number;
  offset: number;
  modified: Date;
  isDirectory: boolean;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new ZipError('unexpected end of file');
    got += n;
  }
  return buf;
}

function fromDos(time: number, date: number): Date {
  return new Date(Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2));
}

export class ZipReader {
  private readonly fd: number;
  readonly entries: ZipEntry[];

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'r');
    try {
      this.entries = this.directory();
    } catch (err) {
      fs.closeSync(this.fd);
      throw err instanceof ZipError ? err : new ZipError(`${file}: ${(err as Error).message}`);
    }
  }

  private directory(): ZipEntry[] {
    const size = fs.fstatSync(this.fd).size;
    const tailLen = Math.min(size, 22 + MAX16);
    const tail = readAt(this.fd, size - tailLen, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new ZipError(`${this.file} is not a zip file (no end of central directory)`);
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdStart = tail.readUInt32LE(at + 16);
    if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw new ZipError('split zip archives are not supported');
    if (at >= 20 && tail.readUInt32LE(at - 20) === 0x07064b50) {
      const r = readAt(this.fd, Number(tail.readBigUInt64LE(at - 20 + 8)), 56);
      if (r.readUInt32LE(0) !== 0x06064b50) throw new ZipError('bad zip64 end of central directory');
      count = Number(r.readBigUInt64LE(32));
      cdSize = Number(r.readBigUInt64LE(40));
      cdStart = Number(r.readBigUInt64LE(48));
    }
    const cd = readAt(this.fd, cdStart, cdSize);
    const out: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new ZipError('bad central directory entry');
      const flags = cd.readUInt16LE(p + 8);
      if (flags & 1) throw new ZipError('encrypted zip entries are not supported');
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const name = cd.subarray(p + 46, p + 46 + nameLen).toString(flags & UTF8 ? 'utf8' : 'latin1');
      let csize = cd.readUInt32LE(p + 20);
      let usize = cd.readUInt32LE(p + 24);
      let offset = cd.readUInt32LE(p + 42);
      const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
      for (let x = 0; x + 4 <= extra.length; ) {
        const id = extra.readUInt16LE(x);
        const len = extra.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (usize === MAX32) {
            usize = Number(extra.readBigUInt64LE(q));
            q += 8;
          }
          if (csize === MAX32) {
            csize = Number(extra.readBigUInt64LE(q));
            q += 8;
          }
          if (offset === MAX32) offset = Number(extra.readBigUInt64LE(q));
        }
        x += 4 + len;
      }
      out.push({
        name,
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        csize,
        size: usize,
        offset,
        modified: fromDos(cd.readUInt16LE(p + 12), cd.readUInt16LE(p + 14)),
        isDirectory: name.endsWith('/'),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  }

  /** The entry's bytes, inflated and checked against its CRC-32 and size. */
  read(e: ZipEntry): Buffer {
    const h = readAt(this.fd, e.offset, 30);
    if (h.readUInt32LE(0) !== 0x04034b50) throw new ZipError(`${e.name}: bad local header`);
    const data = readAt(this.fd, e.offset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28), e.csize);
    let out: Buffer;
    if (e.method === 0) out = data;
    else if (e.method === 8) out = zlib.inflateRawSync(data);
    else throw new ZipError(`${e.name}: compression method ${e.method} is not supported`);
    if (out.length !== e.size || crc32(out) !== e.crc) throw new ZipError(`${e.name}: CRC or size mismatch (damaged archive)`);
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
