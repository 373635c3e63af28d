/**
 * A socket seen through raw DEFLATE both ways (IMAP COMPRESS=DEFLATE, RFC 4978): what
 * arrives on `inner` is inflated before it is read, and what is written is deflated
 * before it reaches `inner`. The Connection swaps it in for its socket, as it does a
 * TLS socket after STARTTLS, so the protocol code above does not change.
 *
 * Output is flushed with Z_SYNC_FLUSH once per turn of the event loop in which anything
 * was written (RFC 4978 4: a response must not sit in the compressor), so an IDLE push or
 * the replies to pipelined commands leave as soon as they are written, while the lines
 * of one response still share one deflate block.
 *
 * Backpressure is kept on both sides: a full `inner` pauses the compressor's output, and
 * a reader that does not read pauses the decompressor and then `inner`.
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export class DeflateStream extends Duplex {
  private readonly inflate = zlib.createInflateRaw();
  private readonly deflate = zlib.createDeflateRaw();
  private flushScheduled = false;

  /** `pending`: bytes already read from `inner` that belong to the compressed stream (pipelined after the command). */
  constructor(
    private readonly inner: Duplex,
    pending?: Buffer,
  ) {
    super({ allowHalfOpen: false });
    const { inflate, deflate } = this;
    inflate.on('data', (d: Buffer) => {
      if (!this.push(d)) inflate.pause();
    });
    inflate.on('end', () => this.push(null));
    inflate.on('error', (e) => this.destroy(e)); // not deflate data: the stream is lost
    deflate.on('data', (d: Buffer) => {
      if (!inner.write(d)) deflate.pause();
    });
    deflate.on('end', () => inner.end());
    deflate.on('error', (e) => this.destroy(e));
    inner.on('drain', this.onInnerDrain);
    inner.on('data', this.onInnerData);
    inner.on('end', this.onInnerEnd);
    inner.on('error', this.onInnerError);
    inner.on('close', this.onInnerClose);
    if (pending && pending.length > 0) inflate.write(pending);
    inner.resume();
  }

  private readonly onInnerDrain = () => this.deflate.resume();
  private readonly onInnerData = (chunk: Buffer) => {
    if (!this.inflate.write(chunk)) {
      this.inner.pause();
      this.inflate.once('drain', () => this.inner.resume());
    }
  };
  private readonly onInnerEnd = () => this.inflate.end();
  private readonly onInnerError = (e: Error) => this.destroy(e);
  private readonly onInnerClose = () => this.destroy();

  override _read(): void {
    this.inflate.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.deflate.write(chunk, cb);
    this.scheduleFlush();
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.deflate.write(Buffer.concat(chunks.map((c) => c.chunk)), cb);
    this.scheduleFlush();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.deflate.end(); // its 'end' ends `inner`
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const inner = this.inner;
    inner.off('drain', this.onInnerDrain);
    inner.off('data', this.onInnerData);
    inner.off('end', this.onInnerEnd);
    inner.off('error', this.onInnerError);
    inner.off('close', this.onInnerClose);
    this.inflate.destroy();
    this.deflate.destroy();
    inner.destroy();
    cb(err);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.deflate.destroyed && !this.deflate.writableEnded) this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    });
  }
}
