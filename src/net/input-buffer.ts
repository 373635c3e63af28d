/**
 * The unread input of one connection: a queue of received chunks with a byte
 * count, so appending never copies and a reader takes from the front. Lines are
 * searched incrementally (`scanned`), so a long line arriving one byte at a time
 * costs linear time, not quadratic.
 */
export class InputBuffer {
  private chunks: Buffer[] = [];
  /** Bytes held in `chunks`. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Puts bytes back in front (the part of a chunk past a terminator). */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.unshift(chunk);
    this.length += chunk.length;
  }

  /** Forgets everything (STARTTLS: pipelined plaintext must not count). */
  clear(): void {
    this.chunks = [];
    this.length = 0;
  }

  /** The first chunk, at most `max` bytes of it, removed from the queue. */
  takeFirst(max = Infinity): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length <= max) {
      this.chunks.shift();
      this.length -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.length -= max;
    return first.subarray(0, max);
  }

  /** The first `n` bytes (n ≤ length) as one buffer, removed from the queue. */
  take(n: number): Buffer {
    if (n <= (this.chunks[0]?.length ?? 0)) return this.takeFirst(n);
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const piece = this.takeFirst(left);
      parts.push(piece);
      left -= piece.length;
    }
    return Buffer.concat(parts, n);
  }

  /** Index of the first `byte` at or after `from`, or -1. */
  indexOf(byte: number, from = 0): number {
    let base = 0;
    for (const c of this.chunks) {
      if (from < base + c.length) {
        const i = c.indexOf(byte, Math.max(0, from - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    return -1;
  }
}
