/**
 * Small blobs kept inside the database (issue 13): a blob of at most INLINE_MAX bytes is
 * not a file but the `data` column of its `blobs` row, written in the same transaction
 * as the content that references it and deleted with the row. A file costs a 4 KiB block
 * (and, for the first blobs of a two-level directory, two directory blocks) for a 2 KB
 * message; a row costs what the bytes take.
 *
 * `data` is one codec byte and the payload: RAW (the bytes as they are) or BROTLI (the
 * bytes compressed, kept only when that saves at least an eighth). Brotli at quality 5
 * with a 64 KiB window: on 1.7 KB plain-text mail it keeps about 48 % of the bytes in
 * ~0.2 ms; quality 11 keeps 43 % but takes 6 ms per message (bench storage-density).
 * Encrypted mail (PGP/MIME, ASCII-armoured) compresses to about 75 % and is kept that
 * way: the codec sees only the stored bytes, so an encrypted message is stored exactly
 * as encrypted, inline or as a file.
 *
 * Never imports: protocol code, src/mail, SQL drivers.
 */
import zlib from 'node:zlib';
import { StoreError } from '../errors.js';

/** Blobs up to this many bytes (logical) are kept in the database; larger ones are files. */
export const INLINE_MAX = 16 * 1024;

const RAW = 0;
const BROTLI = 1;

const OPTIONS: zlib.BrotliOptions = {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
    [zlib.constants.BROTLI_PARAM_LGWIN]: 16,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
};

/** Whether a blob of `size` bytes is kept in the database. */
export function isInlineSize(size: number): boolean {
  return size <= INLINE_MAX;
}

/** The `data` column for `bytes`: compressed when that pays, else as they are. */
export function encodeInline(bytes: Uint8Array): Buffer {
  const raw = asBuffer(bytes);
  return column(raw, worthCompressing(raw) ? zlib.brotliCompressSync(raw, optionsFor(raw)) : null);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function worthCompressing(raw: Buffer): boolean {
  return raw.length >= 64;
}

function optionsFor(raw: Buffer): zlib.BrotliOptions {
  return { ...OPTIONS, params: { ...OPTIONS.params, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } };
}

/** The codec byte and payload: the compressed bytes when they save at least an eighth, else the raw ones. */
function column(raw: Buffer, packed: Buffer | null): Buffer {
  if (packed && packed.length <= raw.length - raw.length / 8) return Buffer.concat([Buffer.of(BROTLI), packed]);
  return Buffer.concat([Buffer.of(RAW), raw]);
}

/**
 * A `data` column made elsewhere (encodeInlineAsync), checked to give back `raw` before it
 * is stored: decompressing costs a fraction of compressing, and a wrong column would lose
 * the message. 'invalid' when it does not.
 */
export function checkedInline(data: Uint8Array, raw: Buffer, hash: string): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let back: Buffer;
  try {
    back = decodeInline(buf, hash);
  } catch (err) {
    throw new StoreError('invalid', `encoded inline blob ${hash} does not decode: ${(err as Error).message}`);
  }
  if (!back.equals(raw)) throw new StoreError('invalid', `encoded inline blob ${hash} does not give back its bytes`);
  return buf;
}

/** The logical bytes of a `data` column; 'unavailable' when it is damaged. */
export function decodeInline(data: Uint8Array, hash: string): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) throw new StoreError('unavailable', `inline blob ${hash} is empty (no codec byte)`);
  const body = buf.subarray(1);
  if (buf[0] === RAW) return body;
  if (buf[0] === BROTLI) {
    try {
      return zlib.brotliDecompressSync(body);
    } catch (err) {
      throw new StoreError('unavailable', `inline blob ${hash} cannot be decompressed: ${(err as Error).message}`, { cause: err });
    }
  }
  throw new StoreError('unavailable', `inline blob ${hash} has unknown codec ${buf[0]}`);
}
