/**
 * Raw DEFLATE decoding (RFC 1951) with a preset dictionary, in JavaScript: for the packed
 * search texts SEARCH checks (./packed-text.ts), each a few dozen bytes that expand to a
 * couple of KB mostly copied from the message. zlib's inflateRawSync spends most of its
 * ~40 µs per call on making and freeing its native stream (and a 32 KB window) before
 * decoding those bytes; this does the same work in a few µs, so a SEARCH that checks
 * hundreds of candidates costs less (issue 13's filter index checks some more than FTS5
 * did). A port of Mark Adler's puff.c (zlib's reference decoder): canonical Huffman codes
 * decoded a bit at a time, simple rather than fast on big inputs.
 *
 * Throws on malformed input; the caller then asks zlib (./packed-text.ts), whose error
 * message it reports.
 * Never imports: protocol code, src/mail, SQL drivers.
 */

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order code length code lengths are sent in. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

interface Huffman {
  count: Uint16Array; // codes of each length
  symbol: Uint16Array; // symbols ordered by code
}

function huffman(lengths: ArrayLike<number>, n: number): Huffman {
  const count = new Uint16Array(MAX_BITS + 1);
  const symbol = new Uint16Array(n);
  for (let s = 0; s < n; s++) count[lengths[s]]++;
  const offs = new Uint16Array(MAX_BITS + 1);
  for (let len = 1; len < MAX_BITS; len++) offs[len + 1] = offs[len] + count[len];
  for (let s = 0; s < n; s++) if (lengths[s] !== 0) symbol[offs[lengths[s]]++] = s;
  return { count, symbol };
}

const FIXED = (() => {
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  return { lencode: huffman(l, 288), distcode: huffman(new Uint8Array(30).fill(5), 30) };
})();

class Inflater {
  private pos = 0;
  private bitbuf = 0;
  private bitcnt = 0;
  out: Uint8Array;
  outLen: number;

  constructor(
    private readonly input: Uint8Array,
    dictionary: Uint8Array,
  ) {
    // a packed search text often expands 30-fold (copies from the dictionary); grown when short
    this.out = new Uint8Array(dictionary.length + Math.max(4096, input.length * 32));
    this.out.set(dictionary);
    this.outLen = dictionary.length;
  }

  private bits(need: number): number {
    let val = this.bitbuf;
    while (this.bitcnt < need) {
      if (this.pos >= this.input.length) throw new Error('inflate: input ends early');
      val |= this.input[this.pos++] << this.bitcnt;
      this.bitcnt += 8;
    }
    this.bitbuf = val >>> need;
    this.bitcnt -= need;
    return val & ((1 << need) - 1);
  }

  private room(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.outLen + n));
    bigger.set(this.out.subarray(0, this.outLen));
    this.out = bigger;
  }

  private decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.count[len];
      if (code - count < first) return h.symbol[index + (code - first)];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('inflate: bad code');
  }

  private stored(): void {
    this.bitbuf = 0;
    this.bitcnt = 0;
    if (this.pos + 4 > this.input.length) throw new Error('inflate: input ends early');
    const len = this.input[this.pos] | (this.input[this.pos + 1] << 8);
    const nlen = this.input[this.pos + 2] | (this.input[this.pos + 3] << 8);
    if (len !== (~nlen & 0xffff)) throw new Error('inflate: bad stored length');
    this.pos += 4;
    if (this.pos + len > this.input.length) throw new Error('inflate: input ends early');
    this.room(len);
    this.out.set(this.input.subarray(this.pos, this.pos + len), this.outLen);
    this.outLen += len;
    this.pos += len;
  }

  private codes(lencode: Huffman, distcode: Huffman): void {
    for (;;) {
      let symbol = this.decode(lencode);
      if (symbol < 256) {
        this.room(1);
        this.out[this.outLen++] = symbol;
      } else if (symbol === 256) {
        return;
      } else {
        symbol -= 257;
        if (symbol >= 29) throw new Error('inflate: bad length symbol');
        const len = LENGTH_BASE[symbol] + this.bits(LENGTH_EXTRA[symbol]);
        const ds = this.decode(distcode);
        if (ds >= 30) throw new Error('inflate: bad distance symbol');
        const dist = DIST_BASE[ds] + this.bits(DIST_EXTRA[ds]);
        if (dist > this.outLen) throw new Error('inflate: distance too far back');
        this.room(len);
        const out = this.out;
        for (let i = 0, from = this.outLen - dist; i < len; i++) out[this.outLen++] = out[from + i];
      }
    }
  }

  private dynamic(): void {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw new Error('inflate: bad counts');
    const lengths = new Uint8Array(320);
    for (let i = 0; i < ncode; i++) lengths[CLEN_ORDER[i]] = this.bits(3);
    const lencode = huffman(lengths, 19);
    lengths.fill(0);
    for (let i = 0; i < nlen + ndist; ) {
      const symbol = this.decode(lencode);
      if (symbol < 16) {
        lengths[i++] = symbol;
        continue;
      }
      let len = 0;
      let repeat: number;
      if (symbol === 16) {
        if (i === 0) throw new Error('inflate: repeat with no first length');
        len = lengths[i - 1];
        repeat = 3 + this.bits(2);
      } else if (symbol === 17) repeat = 3 + this.bits(3);
      else repeat = 11 + this.bits(7);
      if (i + repeat > nlen + ndist) throw new Error('inflate: too many lengths');
      while (repeat-- > 0) lengths[i++] = len;
    }
    if (lengths[256] === 0) throw new Error('inflate: no end-of-block code');
    this.codes(huffman(lengths, nlen), huffman(lengths.subarray(nlen), ndist));
  }

  run(): void {
    let last: number;
    do {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(FIXED.lencode, FIXED.distcode);
      else if (type === 2) this.dynamic();
      else throw new Error('inflate: bad block type');
    } while (!last);
  }
}

/** The bytes a raw DEFLATE stream made with `dictionary` as its preset dictionary decodes to. */
export function inflateRaw(input: Uint8Array, dictionary: Uint8Array = new Uint8Array(0)): Buffer {
  const d = dictionary.length > 32768 ? dictionary.subarray(dictionary.length - 32768) : dictionary;
  const s = new Inflater(input, d);
  s.run();
  return Buffer.from(s.out.buffer, s.out.byteOffset + d.length, s.outLen - d.length);
}
