/**
 * Where a message waits between its last byte and the reply: small messages in
 * memory, bigger ones in a file in the data directory's tmp/ (so a 50 MB message
 * is never held whole in memory). Read back as often as needed (authentication
 * checks, then delivery, then the Sent copy).
 */
import { createReadStream, type WriteStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const MEMORY_LIMIT = 256 * 1024;

export class Spool {
  private chunks: Buffer[] = [];
  private file: { path: string; stream: WriteStream } | undefined;
  size = 0;

  constructor(private readonly dir: string) {}

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.size += chunk.length;
    if (!this.file && this.size <= MEMORY_LIMIT) {
      this.chunks.push(Buffer.from(chunk)); // copy: the reader's buffer is reused
      return;
    }
    if (!this.file) {
      await mkdir(this.dir, { recursive: true });
      const path = join(this.dir, `smtp-${process.pid}-${randomBytes(8).toString('hex')}.eml`);
      this.file = { path, stream: createWriteStream(path) };
      for (const c of this.chunks) await this.put(c);
      this.chunks = [];
    }
    await this.put(chunk);
  }

  private put(chunk: Buffer): Promise<void> {
    const stream = this.file!.stream;
    return new Promise((resolve, reject) => {
      if (stream.write(chunk)) resolve();
      else stream.once('drain', resolve).once('error', reject);
    });
  }

  /** Finishes writing; call once before reading. */
  async seal(): Promise<void> {
    const f = this.file;
    if (f) await new Promise<void>((resolve, reject) => f.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** The whole message when it is in memory, else undefined. */
  inMemory(): Buffer | undefined {
    return this.file ? undefined : Buffer.concat(this.chunks);
  }

  /** The message, with `prefix` (added header fields) in front. */
  read(prefix: Buffer = Buffer.alloc(0)): Readable | Buffer {
    const mem = this.inMemory();
    if (mem) return Buffer.concat([prefix, mem]);
    const path = this.file!.path;
    return Readable.from(
      (async function* () {
        if (prefix.length) yield prefix;
        for await (const c of createReadStream(path)) yield c as Buffer;
      })(),
    );
  }

  /** The first bytes (for header inspection) without reading the whole file. */
  async head(max: number): Promise<Buffer> {
    const mem = this.inMemory();
    if (mem) return mem.subarray(0, max);
    const parts: Buffer[] = [];
    let got = 0;
    for await (const c of createReadStream(this.file!.path, { start: 0, end: max - 1 })) {
      parts.push(c as Buffer);
      got += (c as Buffer).length;
      if (got >= max) break;
    }
    return Buffer.concat(parts);
  }

  /**
   * Rewrites the header block (up to the first empty line, looked for in the first
   * `max` bytes) when `edit` changes it; the body is left as it is.
   */
  async editHeader(max: number, edit: (header: string) => string): Promise<void> {
    const head = await this.head(max);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    const header = head.subarray(0, end + 2).toString('latin1');
    const edited = edit(header);
    if (edited === header) return;
    const replacement = Buffer.from(edited, 'latin1');
    const rest = this.read();
    const parts: Buffer[] = [];
    const all = Buffer.isBuffer(rest) ? [rest] : rest;
    for await (const c of all) parts.push(c as Buffer);
    // Only the header changes; messages this big in the header are rare, so the rewrite goes through memory.
    const whole = Buffer.concat(parts);
    await this.dispose();
    this.file = undefined;
    this.size = 0;
    await this.write(Buffer.concat([replacement, whole.subarray(end + 2)]));
    await this.seal();
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    if (this.file) {
      this.file.stream.destroy();
      await rm(this.file.path, { force: true });
    }
  }
}
