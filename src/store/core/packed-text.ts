/**
 * Compact forms of a content's MIME index (`contents.idx`) and search text
 * (`contents.search_text`), where the backend's columns take bytes (Dialect.packsText:
 * SQLite). Why: `contents` is a WITHOUT ROWID table, where a row over ~1,000 bytes
 * spills into an overflow page of its own, so a 2 KB message's row (index ~1.2 KB, search
 * text ~1.9 KB) took 4.7 KB (bench storage-density). Packed, the row is ~0.6 KB.
 *
 * - The index is raw deflate with a preset dictionary of the JSON a MessageIndex spells
 *   (keys, nulls, common types): ~1,160 → ~400 bytes.
 * - The search text of a message kept inline in one blob is raw deflate with the message
 *   itself as the dictionary: the text is mostly the message's own words, so ~1,900 →
 *   ~80 bytes. Reading it needs the message's bytes (the callers join blob_inline).
 *   Otherwise, deflate without dictionary.
 *
 * A value that is a string is the plain form (rows from before schema 20, PostgreSQL).
 * Never imports: protocol code, src/mail, SQL drivers.
 */
import zlib from 'node:zlib';
import { StoreError } from '../errors.js';
import { inflateRaw } from './inflate-raw.js';

const DEFLATED = 1;
const WITH_MESSAGE = 2;

/** The strings a MessageIndex's JSON repeats; the most likely last (deflate finds near matches cheaper). */
const INDEX_DICTIONARY = Buffer.from(
  '"type":"multipart","subtype":"alternative","subtype":"mixed","subtype":"related","params":[["boundary","' +
    '"type":"application","subtype":"octet-stream","encoding":"BASE64","encoding":"QUOTED-PRINTABLE","subtype":"html",' +
    '"disposition":{"type":"attachment","params":[["filename","parts":[{"section":"1","section":"2",' +
    '{"version":1,"size":,"envelope":{"date":"","subject":"","from":[{"name":"","adl":null,"mailbox":"","host":"example.com"}],' +
    '"sender":[{"name":null,"adl":null,"mailbox":"","host":""}],"replyTo":[{"name":null,"adl":null,"mailbox":"","host":""}],' +
    '"to":[{"name":null,"adl":null,"mailbox":"","host":""}],"cc":null,"bcc":null,"inReplyTo":null,"messageId":"<@>"},' +
    '"body":{"section":"","headerStart":0,"headerEnd":,"bodyEnd":,"type":"text","subtype":"plain","params":[["charset","utf-8"]],' +
    '"id":null,"description":null,"encoding":"7BIT","size":,"lines":,"md5":null,"disposition":null,"language":null,"location":null},' +
    '"preview":"","threadKeys":["<@>"],"sentDate":,"largeBodies":[]}',
);

/** The dictionary window of deflate: a longer message is used by its last 32 KiB (blobs inline are at most 16 KiB). */
const WINDOW = 32 * 1024;

/**
 * The smallest deflate window (zlib windowBits) that holds the dictionary and the input
 * whole, less the 262 bytes of lookahead zlib keeps: every match a 32 KiB window finds is
 * then found too, so the output is the same bytes, while zlib sets up (allocates and
 * zeroes) a window and chain table that fit, not 64 KiB each, on every call. Readers
 * inflate with the full window, which reads any smaller one.
 */
export function windowBitsFor(bytes: number): number {
  let bits = 9;
  while (bits < 15 && (1 << bits) - 262 < bytes) bits++;
  return bits;
}

function tagged(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), body]);
}

/** The packed form of a MessageIndex's JSON. */
export function packIndex(json: string): Buffer {
  const plain = Buffer.from(json);
  return tagged(DEFLATED, zlib.deflateRawSync(plain, { level: 9, dictionary: INDEX_DICTIONARY, windowBits: windowBitsFor(INDEX_DICTIONARY.length + plain.length) }));
}

/** The packed form of a search text; `message`: the content's bytes, when they are kept inline (the reader can get them). */
export function packSearchText(text: string, message?: Uint8Array): Buffer {
  const plain = Buffer.from(text);
  if (message) {
    const dictionary = Buffer.from(message.buffer, message.byteOffset, message.byteLength).subarray(-WINDOW);
    return tagged(WITH_MESSAGE, zlib.deflateRawSync(plain, { level: 9, dictionary, windowBits: windowBitsFor(dictionary.length + plain.length) }));
  }
  return tagged(DEFLATED, zlib.deflateRawSync(plain, { level: 6, windowBits: windowBitsFor(plain.length) }));
}

/** The plain index JSON of a stored `idx` value. */
export function unpackIndex(v: string | Uint8Array, id: string): string {
  if (typeof v === 'string') return v;
  const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (buf[0] !== DEFLATED) throw new StoreError('unavailable', `content ${id}: unknown index form ${buf[0]}`);
  return inflate(buf.subarray(1), INDEX_DICTIONARY, id);
}

/** Whether a stored search text needs the message's bytes to be read. */
export function needsMessage(v: string | Uint8Array): boolean {
  return typeof v !== 'string' && v[0] === WITH_MESSAGE;
}

/** The plain search text of a stored value; `message()` gives the content's bytes (only asked when packed against them). */
export function unpackSearchText(v: string | Uint8Array, id: string, message: () => Buffer | undefined): string {
  if (typeof v === 'string') return v;
  const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (buf[0] === DEFLATED) return inflate(buf.subarray(1), undefined, id);
  if (buf[0] === WITH_MESSAGE) {
    const m = message();
    if (!m) throw new StoreError('unavailable', `content ${id}: its search text needs the message bytes, which are not inline`);
    return inflate(buf.subarray(1), m.subarray(-WINDOW), id);
  }
  throw new StoreError('unavailable', `content ${id}: unknown search text form ${buf[0]}`);
}

function inflate(body: Buffer, dictionary: Buffer | undefined, id: string): string {
  try {
    return inflateRaw(body, dictionary).toString(); // ./inflate-raw.ts: a fraction of zlib's per-call cost
  } catch {
    // malformed: zlib says how (and would read what the JavaScript decoder cannot)
  }
  try {
    return zlib.inflateRawSync(body, dictionary ? { dictionary } : {}).toString();
  } catch (err) {
    throw new StoreError('unavailable', `content ${id}: packed text cannot be read: ${(err as Error).message}`, { cause: err });
  }
}
