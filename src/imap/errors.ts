/**
 * The one place where failures become IMAP responses (STYLE.md 5): user errors are a
 * tagged NO with a response code, syntax errors a BAD, internal errors are logged with
 * the session id and the client gets `NO [SERVERBUG]` with that id, never internal text.
 */
import type { Logger } from 'pino';
import { ImapParseError, tagged } from './protocol/index.js';
import { isStoreError } from '../store/errors.js';
import { IngestError } from '../ingest.js';

/** A refusal a command raises on purpose: `NO [code] text` (or BAD). */
export class ImapNo extends Error {
  constructor(
    readonly text: string,
    readonly code?: string,
    readonly status: 'NO' | 'BAD' = 'NO',
  ) {
    super(text);
    this.name = 'ImapNo';
  }
}

/** RFC 5530 codes for each StoreError code; 'invalid' keeps the store's reason (it names the bad value). */
const STORE_CODES = {
  exists: ['ALREADYEXISTS', 'Mailbox already exists'],
  notfound: ['NONEXISTENT', 'No such mailbox'],
  overquota: ['OVERQUOTA', 'Quota exceeded'],
  unavailable: ['UNAVAILABLE', 'Storage temporarily unavailable; try again'],
  conflict: ['CANNOT', 'Operation not possible in the current state'],
  invalid: ['CANNOT', 'Invalid argument'],
} as const;

/** The tagged completion line for any error a command threw. */
export function failureLine(tag: string, err: unknown, log: Logger, sessionId: string): string {
  if (err instanceof ImapNo) return tagged(tag, err.status, err.text, err.code);
  if (err instanceof ImapParseError) return tagged(tag, err.response, err.text, err.code);
  if (isStoreError(err)) {
    const [code, text] = STORE_CODES[err.code];
    return tagged(tag, 'NO', err.code === 'invalid' ? err.message : text, code);
  }
  if (err instanceof IngestError) return tagged(tag, 'NO', 'Message too large', 'TOOBIG'); // RFC 7889 4
  log.error({ err }, 'internal error in IMAP command');
  return tagged(tag, 'NO', `Internal error, session ${sessionId}`, 'SERVERBUG');
}
