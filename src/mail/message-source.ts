/**
 * One message's bytes, written once at the network edge and read as often as needed.
 *
 * `MessageSpool` is the writer at the edge (SMTP DATA/BDAT, LMTP, a stream from the
 * CLI or a DSN builder): small messages stay in memory, bigger ones go to one spool
 * file under `<data>/tmp`; either way the bytes are hashed (sha256) and counted as
 * they arrive. `seal()` gives the `MessageSource` that verify (mailauth), DKIM
 * signing, ingest (MIME index, blobs), the outbound queue and the Sent copy all read.
 *
 * A source is an ordered list of pieces (memory or a byte range of a spool file), so
 * adding trace fields in front (`prepend`) or rewriting the header (`replaceHead`)
 * makes a view over the same spool without copying the body. `blobBytes` tells the
 * blob store where a range lives: a file range when it can (a whole spool file can
 * become a blob by a hard link), a stream otherwise; never one whole Buffer.
 *
 * Invariants: a spool file is never written after `seal()`; it is removed exactly once,
 * by whichever of `MessageSpool.dispose` / `MessageSource.dispose` runs first (views
 * share their base's file and dispose nothing). Never imports: store, protocols.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open as openFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** Messages up to this size stay in memory (one file create/unlink per 10 KB message costs more than it saves). */
export const MEMORY_LIMIT = 256 * 1024;

/** A byte range [start, end) of a file: what `BlobStore.put` can link or copy without the bytes entering the heap. */
export interface FileRange {
  path: string;
  start: number;
  end: number;
}

type Piece = { bytes: Buffer } | { file: SpoolFile; start: number; end: number };

/** A spool file and its one removal. */
export class SpoolFile {
  private removed: Promise<void> | undefined;
  constructor(
    readonly path: string,
    /** Length of the whole file. */
    readonly size: number,
    private readonly owned: boolean,
    /** Never written again by anyone (a spool, not a user's file): the blob store may link it. */
    readonly immutable: boolean,
  ) {}
  remove(): Promise<void> {
    if (!this.owned) return Promise.resolve();
    return (this.removed ??= rm(this.path, { force: true }));
  }
}

export class MessageSourceError extends Error {
  constructor(
    readonly code: 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'MessageSourceError';
  }
}

export class MessageSource {
  private sha: string | undefined;
  private disposed = false;

  private constructor(
    private readonly pieces: Piece[],
    readonly size: number,
    hash: string | undefined,
    private readonly files: SpoolFile[],
  ) {
    this.sha = hash;
  }

  /** Bytes already in memory (a generated message, a small IMAP literal). */
  static fromBuffer(bytes: Buffer): MessageSource {
    return new MessageSource(bytes.length ? [{ bytes }] : [], bytes.length, undefined, []);
  }

  /**
   * A complete file, e.g. an IMAP literal spool or a file named on the command line.
   * `owned`: dispose() removes it. `immutable`: nobody writes it again (a spool, never a
   * user's file), so a blob may share its inode.
   */
  static fromFile(path: string, size: number, opts: { hash?: string; owned?: boolean; immutable?: boolean } = {}): MessageSource {
    return MessageSource.ofSpool(new SpoolFile(path, size, opts.owned ?? false, opts.immutable ?? false), opts.hash);
  }

  /** For MessageSpool.seal: the source and the spool share one removal. */
  static ofSpool(file: SpoolFile, hash: string | undefined): MessageSource {
    return new MessageSource(file.size ? [{ file, start: 0, end: file.size }] : [], file.size, hash, [file]);
  }

  /** Spools a stream (stdin, a built DSN) once; the caller must dispose() the result. */
  static async fromStream(stream: AsyncIterable<Buffer | Uint8Array | string>, dir: string, opts: { maxSize?: number; prefix?: string; memoryLimit?: number } = {}): Promise<MessageSource> {
    const spool = new MessageSpool(dir, { prefix: opts.prefix, memoryLimit: opts.memoryLimit });
    try {
      for await (const chunk of stream) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        if (opts.maxSize && spool.size + buf.length > opts.maxSize) throw new MessageSourceError('too-large', `message exceeds the size limit of ${opts.maxSize} bytes`);
        await spool.write(buf);
      }
      return await spool.seal();
    } catch (err) {
      await spool.dispose();
      throw err;
    }
  }

  /** sha256 hex of the bytes (known from the edge, or read once and remembered). */
  async sha256(): Promise<string> {
    if (this.sha) return this.sha;
    const h = createHash('sha256');
    for await (const c of this.stream()) h.update(c as Buffer);
    return (this.sha ??= h.digest('hex'));
  }

  /** The hash if it is already known, without reading. */
  get knownHash(): string | undefined {
    return this.sha;
  }

  /** Remembers a hash computed by a reader that went through every byte anyway (ingest). */
  noteHash(hash: string): void {
    this.sha ??= hash;
  }

  /** Bytes [start, end) as a stream; each call reads afresh. */
  stream(start = 0, end = this.size): Readable {
    const parts = this.slice(start, end);
    return Readable.from(
      (async function* () {
        for (const p of parts) {
          if ('bytes' in p) yield p.bytes;
          else if (p.end > p.start) yield* createReadStream(p.file.path, { start: p.start, end: p.end - 1, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
        }
      })(),
      { objectMode: false },
    );
  }

  /** Bytes [start, end) in one buffer: for header-sized ranges (and the MIME index, which needs the message in one buffer). */
  async read(start: number, end: number): Promise<Buffer> {
    const parts = this.slice(start, end);
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(end, this.size) - start));
    let at = 0;
    for (const p of parts) {
      if ('bytes' in p) {
        at += p.bytes.copy(out, at);
        continue;
      }
      const fh = await openFile(p.file.path, 'r');
      try {
        let pos = p.start;
        while (pos < p.end) {
          const { bytesRead } = await fh.read(out, at, p.end - pos, pos);
          if (bytesRead === 0) throw new Error(`spool ${p.file.path} is shorter than expected`);
          at += bytesRead;
          pos += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  /** The first `max` bytes (or all, when shorter). */
  head(max: number): Promise<Buffer> {
    return this.read(0, Math.min(max, this.size));
  }

  /** The whole message in one buffer (external memory, not the JS heap). */
  all(): Promise<Buffer> {
    return this.read(0, this.size);
  }

  /** A view with `bytes` in front (trace fields); shares this source's spool. */
  prepend(bytes: Buffer): MessageSource {
    if (bytes.length === 0) return this;
    return new MessageSource([{ bytes }, ...this.pieces], bytes.length + this.size, undefined, []);
  }

  /** A view with [0, end) replaced by `bytes` (a rewritten header); shares this source's spool. */
  replaceHead(end: number, bytes: Buffer): MessageSource {
    const rest = this.slice(end, this.size);
    return new MessageSource(bytes.length ? [{ bytes }, ...rest] : rest, bytes.length + this.size - end, undefined, []);
  }

  /**
   * Where bytes [start, end) are, for `BlobStore.put`: a file range when they lie in one
   * immutable spool file, else a stream. Never a whole Buffer of the range.
   */
  blobBytes(start: number, end: number): FileRange | Readable {
    const parts = this.slice(start, end);
    // A user's file could change after it became a blob: it is only ever streamed (copied).
    if (parts.length === 1 && 'file' in parts[0] && parts[0].file.immutable) return { path: parts[0].file.path, start: parts[0].start, end: parts[0].end };
    return this.stream(start, end);
  }

  /**
   * Ranges of this source that are a whole immutable spool file: ingest cuts segments at their
   * edges, so the blob store can link the file instead of copying it.
   */
  wholeFiles(): { start: number; end: number }[] {
    const out: { start: number; end: number }[] = [];
    let pos = 0;
    for (const p of this.pieces) {
      const len = 'bytes' in p ? p.bytes.length : p.end - p.start;
      if ('file' in p && p.file.immutable && p.start === 0 && p.end === p.file.size) out.push({ start: pos, end: pos + len });
      pos += len;
    }
    return out;
  }

  /** Removes the spool file (once; views dispose nothing). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const f of this.files) await f.remove();
  }

  /** The pieces covering [start, end), trimmed to it. */
  private slice(start: number, end: number): Piece[] {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) throw new RangeError(`bad byte range [${start}, ${end})`);
    const out: Piece[] = [];
    let pos = 0;
    for (const p of this.pieces) {
      const len = 'bytes' in p ? p.bytes.length : p.end - p.start;
      const from = Math.max(start, pos);
      const to = Math.min(end, pos + len);
      if (to > from) {
        if ('bytes' in p) out.push({ bytes: p.bytes.subarray(from - pos, to - pos) });
        else out.push({ file: p.file, start: p.start + from - pos, end: p.start + to - pos });
      }
      pos += len;
      if (pos >= end) break;
    }
    return out;
  }
}

/**
 * The writer at the network edge: hashes and counts while it writes; memory up to
 * MEMORY_LIMIT, then one file. Call `seal()` once after the last byte, and
 * `dispose()` always (it removes the file unless the sealed source was disposed first;
 * either way exactly once).
 */
export class MessageSpool {
  private chunks: Buffer[] = [];
  private file: { path: string; stream: WriteStream } | undefined;
  private readonly hash: Hash = createHash('sha256');
  private spoolFile: SpoolFile | undefined;
  private disposed = false;
  private writeError: Error | undefined;
  size = 0;

  constructor(
    private readonly dir: string,
    private readonly opts: { prefix?: string; memoryLimit?: number } = {},
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0 || this.disposed) return;
    this.size += chunk.length;
    this.hash.update(chunk);
    if (!this.file && this.size <= (this.opts.memoryLimit ?? MEMORY_LIMIT)) {
      this.chunks.push(Buffer.from(chunk)); // copy: the reader's buffer is reused
      return;
    }
    if (!this.file) {
      await mkdir(this.dir, { recursive: true });
      const path = join(this.dir, `${this.opts.prefix ?? 'msg'}-${process.pid}-${randomBytes(8).toString('hex')}.eml`);
      const stream = createWriteStream(path, { mode: 0o600 });
      // Kept for seal(): an error between writes must not be an uncaught 'error' event.
      stream.on('error', (err) => (this.writeError ??= err));
      this.file = { path, stream };
      for (const c of this.chunks) await this.put(c);
      this.chunks = [];
    }
    await this.put(chunk);
  }

  private put(chunk: Buffer): Promise<void> {
    const stream = this.file!.stream;
    if (this.writeError) return Promise.reject(this.writeError);
    return new Promise((resolve, reject) => {
      if (stream.write(chunk)) return resolve();
      const done = (err?: Error) => {
        stream.off('drain', done).off('error', done);
        if (err) reject(err);
        else resolve();
      };
      stream.on('drain', done).on('error', done);
    });
  }

  /** Finishes writing and hands over the bytes; the file is complete and closed when this resolves. */
  async seal(): Promise<MessageSource> {
    const hash = this.hash.digest('hex');
    const f = this.file;
    if (!f) {
      const source = MessageSource.fromBuffer(Buffer.concat(this.chunks));
      source.noteHash(hash);
      return source;
    }
    await new Promise<void>((resolve, reject) => f.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.writeError) throw this.writeError;
    this.spoolFile = new SpoolFile(f.path, this.size, true, true);
    return MessageSource.ofSpool(this.spoolFile, hash);
  }

  /** Removes the spool file (if the sealed source has not already): safe to call always, and again. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.chunks = [];
    if (this.spoolFile) return this.spoolFile.remove();
    if (this.file) {
      const st = this.file.stream;
      // Wait for the close: a file still being opened would otherwise appear after the rm.
      if (!st.closed) await new Promise<void>((resolve) => st.once('close', resolve).destroy());
      await rm(this.file.path, { force: true });
    }
  }
}
