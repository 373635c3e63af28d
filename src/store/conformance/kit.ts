/**
 * The store conformance kit: what a backend's test hands the suites (StoreHarness) and
 * the helpers the suites and backend tests share (contents made by hand, raw messages,
 * reading streams). Imports nothing of the suites, so suites and backend tests import
 * it without a cycle.
 *
 * Never imports: a backend, protocol code, the MIME indexer.
 */
import { createHash } from 'node:crypto';
import type { ChangeBus } from '../bus.js';
import type { MessageIndex } from '../../mime/types.js';
import type { NewContent, Store } from '../types.js';
import { Readable } from 'node:stream';

/** What a backend hands the suite. `reopen`, when given, closes and reopens on the same data. */
export interface StoreHarness {
  store: Store;
  bus: ChangeBus;
  close(): Promise<void>;
  reopen?(): Promise<StoreHarness>;
}

/** sha256 hex: the name of a blob or content with these bytes. */
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A minimal hand-made MessageIndex: enough for the store, which treats it as opaque JSON. */
export function minimalIndex(raw: Buffer): MessageIndex {
  const headerEnd = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') + 4 : raw.length;
  return {
    version: 1,
    size: raw.length,
    envelope: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
    body: {
      section: '', headerStart: 0, headerEnd, bodyEnd: raw.length, type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']],
      id: null, description: null, encoding: '7BIT', size: raw.length - headerEnd, lines: 1, md5: null, disposition: null, language: null, location: null,
    },
    preview: '',
    threadKeys: [],
    sentDate: null,
    largeBodies: [],
  };
}

/** Writes each piece as a blob and returns NewContent whose segments concatenate to the message. */
export async function makeContent(store: Store, pieces: Buffer[], searchText = ''): Promise<NewContent> {
  const raw = Buffer.concat(pieces);
  for (const p of pieces) await store.blobs.put(sha(p), Readable.from([p]));
  return { id: sha(raw), size: raw.length, segments: pieces.map((p) => ({ hash: sha(p), size: p.length })), index: minimalIndex(raw), searchText };
}

/** Splits a buffer at the given offsets. */
export function splitAt(raw: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, raw.length]) {
    out.push(raw.subarray(prev, c));
    prev = c;
  }
  return out;
}

export const rawMessage = (n: number | string, body = `body ${n}`): Buffer => Buffer.from(`Subject: message ${n}\r\nMessage-ID: <${n}@example.test>\r\n\r\n${body}\r\n`);

export async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
