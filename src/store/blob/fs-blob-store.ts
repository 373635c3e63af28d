/**
 * Content-addressed blob files: `<dir>/ab/cd/<sha256hex>`. Used by the SQLite store
 * (and any backend that keeps message bytes on a local file system).
 *
 * Never imports: protocol code, src/mail, SQL drivers.
 *
 * Invariants:
 * - A blob file is visible under its name only when complete and durable: written to a
 *   temp file in the same directory, fsynced, renamed, then the directory fsynced.
 * - A file's bytes always hash to its name (checked on `put`), so rewriting is harmless.
 * - Names are validated (64 lower-case hex) before they touch a path: no traversal.
 * - A large compressible blob is kept as `<hash>.br` instead (compressed.ts); every read
 *   gives the logical bytes, so nothing above this file knows.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { StoreError } from '../errors.js';
import { BROTLI_OPTIONS, COMPRESS_MIN, compressedLogicalSize, readCompressed, sampleOf, sizeHeader, worthCompressing } from './compressed.js';
import type { BlobBytes, BlobStore } from '../types.js';

type FileRange = Exclude<BlobBytes, Readable>;

function isFileRange(bytes: BlobBytes): bytes is FileRange {
  return !(bytes instanceof Readable) && typeof (bytes as FileRange).path === 'string';
}

/** Throws 'invalid' for a range that is not [start, end) within a safe integer span. */
function checkRange(r: FileRange): FileRange {
  if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < r.start) throw new StoreError('invalid', `bad byte range [${r.start}, ${r.end})`);
  return r;
}

function readFileRange(r: FileRange): AsyncIterable<unknown> {
  return r.end > r.start ? fs.createReadStream(r.path, { start: r.start, end: r.end - 1, highWaterMark: 256 * 1024 }) : Readable.from([]);
}

/**
 * All of `bytes` in one buffer, for a backend that can only take one (a bytea parameter).
 * The file blob store never calls it.
 */
export async function collectBytes(bytes: BlobBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of isFileRange(bytes) ? readFileRange(checkRange(bytes)) : bytes) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes every chunk of `source` to `fh` and returns the sha256 hex of what was written. */
async function writeHashing(fh: fsp.FileHandle, source: AsyncIterable<unknown>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of source) {
    const chunk = c as Buffer;
    h.update(chunk);
    let off = 0;
    while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
  }
  return h.digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;

/** Throws 'invalid' unless `hash` is a sha256 hex name. */
export function checkHash(hash: string): void {
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new StoreError('invalid', `not a sha256 hex blob name: ${String(hash).slice(0, 80)}`);
}

/** sha256 hex of a buffer: the name a blob of these bytes gets. */
export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** File-system BlobStore; also offers the synchronous checks a SQLite transaction needs. */
export class FsBlobStore implements BlobStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Where the blob of `hash` lives (validated). */
  pathOf(hash: string): string {
    checkHash(hash);
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  /** Where the compressed form of the blob lives, when it is kept compressed. */
  compressedPathOf(hash: string): string {
    return `${this.pathOf(hash)}.br`;
  }

  async put(hash: string, bytes: BlobBytes): Promise<void> {
    const file = this.pathOf(hash);
    const range = isFileRange(bytes) ? checkRange(bytes) : undefined;
    const existing = await fsp.stat(file).catch(() => null);
    if ((existing && (!range || existing.size === range.end - range.start)) || (!existing && this.sizeSync(hash) !== null)) {
      if (!range) (bytes as Readable).destroy(); // content-addressed: already there, same bytes
      return;
    }
    const dir = path.dirname(file);
    await fsp.mkdir(dir, { recursive: true });
    if (range && range.end - range.start >= COMPRESS_MIN && worthCompressingRange(range)) {
      await this.putCompressed(hash, readFileRange(range), range.end - range.start);
      return syncDir(dir);
    }
    if (range && (await this.link(hash, range, file))) return syncDir(dir);
    // Same directory as the target, so rename is atomic (never a half-written blob visible).
    const tmp = path.join(dir, `.tmp-${hash.slice(0, 8)}-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        const digest = await writeHashing(fh, range ? readFileRange(range) : (bytes as Readable));
        if (digest !== hash) throw new StoreError('invalid', `blob bytes do not hash to ${hash}`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const size = (await fsp.stat(tmp)).size;
      if (size >= COMPRESS_MIN && worthCompressing(sampleOf(tmp, 0, size), size)) {
        await this.putCompressed(hash, fs.createReadStream(tmp, { highWaterMark: 256 * 1024 }), size);
        await fsp.rm(tmp, { force: true });
      } else {
        await fsp.rename(tmp, file);
      }
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      if (err instanceof StoreError) throw err;
      throw new StoreError('unavailable', `cannot write blob ${hash}: ${(err as Error).message}`, { cause: err });
    }
    await syncDir(dir);
  }

  /** Writes `<hash>.br` from the logical bytes in `source` (hash checked), by temp file and rename. */
  private async putCompressed(hash: string, source: AsyncIterable<unknown>, size: number): Promise<void> {
    const target = this.compressedPathOf(hash);
    const tmp = path.join(path.dirname(target), `.tmp-${hash.slice(0, 8)}-${randomBytes(6).toString('hex')}.br`);
    const h = createHash('sha256');
    let seen = 0;
    try {
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.write(sizeHeader(size));
        const br = zlib.createBrotliCompress({ ...BROTLI_OPTIONS, params: { ...BROTLI_OPTIONS.params, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size } });
        const hashing = async function* (chunks: AsyncIterable<unknown>) {
          for await (const c of chunks) {
            const chunk = c as Buffer;
            h.update(chunk);
            seen += chunk.length;
            yield chunk;
          }
        };
        // Fed and drained at once: a source error destroys br, which ends the loop below with it.
        const fed = pipeline(source, hashing, br);
        fed.catch(() => {}); // awaited below; the loop sees the same error first
        for await (const out of br) {
          const chunk = out as Buffer;
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        }
        await fed;
        if (h.digest('hex') !== hash || seen !== size) throw new StoreError('invalid', `blob bytes do not hash to ${hash}`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      if (err instanceof StoreError) throw err;
      throw new StoreError('unavailable', `cannot write blob ${hash}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * A whole spool file becomes the blob by a hard link, so its bytes are written to disk
   * once (the spool is never written after it is complete; removing the spool later
   * removes only its name). False when the range is part of the file or the file
   * system cannot link there (another device): the caller copies instead.
   */
  private async link(hash: string, range: FileRange, file: string): Promise<boolean> {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(range.path, 'r');
      if (range.start !== 0 || (await fh.stat()).size !== range.end) return false;
      const h = createHash('sha256');
      for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 })) h.update(chunk as Buffer);
      if (h.digest('hex') !== hash) throw new StoreError('invalid', `blob bytes do not hash to ${hash}`);
      await fh.sync(); // the spool was written without fsync: the blob must be durable before its name appears
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('unavailable', `cannot read ${range.path} for blob ${hash}: ${(err as Error).message}`, { cause: err });
    } finally {
      await fh?.close();
    }
    try {
      await fsp.link(range.path, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return true; // a concurrent put of the same bytes
      return false; // EXDEV, EPERM (no hard links here): copy
    }
  }

  async has(hash: string): Promise<boolean> {
    return this.sizeSync(hash) !== null;
  }

  /** Logical size of the blob (compressed or not), or null when it does not exist. */
  sizeSync(hash: string): number | null {
    try {
      return fs.statSync(this.pathOf(hash)).size;
    } catch {
      return fs.existsSync(this.compressedPathOf(hash)) ? compressedLogicalSize(this.compressedPathOf(hash)) : null;
    }
  }

  /** Bytes the blob takes at rest (its file), or null when it does not exist. */
  storedSizeSync(hash: string): number | null {
    for (const f of [this.pathOf(hash), this.compressedPathOf(hash)]) {
      try {
        return fs.statSync(f).size;
      } catch {
        // try the other form
      }
    }
    return null;
  }

  hasSync(hash: string): boolean {
    return this.sizeSync(hash) !== null;
  }

  read(hash: string, start = 0, end?: number): Readable {
    const file = this.pathOf(hash);
    if (start < 0 || (end !== undefined && end < start)) throw new StoreError('invalid', `bad byte range [${start}, ${end})`);
    if (end === start) return Readable.from([]);
    return Readable.from(readEither(file, this.compressedPathOf(hash), hash, start, end), { objectMode: false });
  }

  async delete(hash: string): Promise<void> {
    await fsp.rm(this.pathOf(hash), { force: true });
    await fsp.rm(this.compressedPathOf(hash), { force: true });
  }

  /** Synchronous delete for use under a database write lock (see sqlite/blobs.ts). */
  deleteSync(hash: string): void {
    fs.rmSync(this.pathOf(hash), { force: true });
    fs.rmSync(this.compressedPathOf(hash), { force: true });
  }
}

/**
 * Ranges up to this size are read with one read() into one buffer instead of through a
 * ReadStream (64 KB chunks, a stream per segment): most messages, attachments included, are
 * under it, and a POP3 RETR or IMAP BODY[] of a 300 KB message was five reads and a stream.
 */
export const SMALL_READ = 1024 * 1024;

function worthCompressingRange(r: FileRange): boolean {
  try {
    return worthCompressing(sampleOf(r.path, r.start, r.end), r.end - r.start);
  } catch {
    return false; // unreadable here: the plain path reports the error
  }
}

/** The plain file when there is one (most blobs), else the compressed form. */
async function* readEither(file: string, compressed: string, hash: string, start: number, end: number | undefined): AsyncGenerator<Buffer> {
  try {
    yield* readRange(file, hash, start, end);
    return;
  } catch (err) {
    if (!(err instanceof StoreError && err.code === 'notfound')) throw err;
  }
  try {
    yield* readCompressed(compressed, start, end);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'notfound' : 'unavailable';
    throw new StoreError(code, `cannot read blob ${hash}: ${(err as Error).message}`, { cause: err });
  }
}

async function* readRange(file: string, hash: string, start: number, end: number | undefined): AsyncGenerator<Buffer> {
  if (end !== undefined && end - start <= SMALL_READ) {
    yield await readSmall(file, hash, start, end);
    return;
  }
  let stream: fs.ReadStream;
  try {
    stream = fs.createReadStream(file, { start, end: end === undefined ? undefined : end - 1 });
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'notfound' : 'unavailable';
    throw new StoreError(code, `cannot read blob ${hash}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Bytes [start, end) in one open/read/close: most message segments are a few KB, and a
 * ReadStream per segment (stream setup, 64 KB buffer, extra ticks) cost more than the read.
 * A short read means the file is shorter than its row says: an error, never silent truncation.
 */
async function readSmall(file: string, hash: string, start: number, end: number): Promise<Buffer> {
  // Plain descriptors, not FileHandles: a FileHandle's object, close promise and GC tracking
  // cost more on the event loop than the read of a small blob (POP3 opens one per RETR).
  let fd: number | undefined;
  try {
    fd = await openForRead(file);
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const bytesRead = await readAt(fd, buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < buf.length) throw new Error(`short read: ${got} of ${buf.length} bytes at ${start}`);
    return buf;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'notfound' : 'unavailable';
    throw new StoreError(code, `cannot read blob ${hash}: ${(err as Error).message}`, { cause: err });
  } finally {
    // Not awaited: the bytes are read, and waiting for the pool's close would add a third trip to every RETR's latency.
    if (fd !== undefined) void closeQuietly(fd);
  }
}

function openForRead(file: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** A read-only descriptor: closing it cannot lose data, so an error is of no use to anyone. */
function closeQuietly(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}

/** fsync a directory so a rename in it survives a crash (no-op where directories cannot be opened). */
async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
}
