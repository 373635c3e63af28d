/**
 * What the server advertises, by session state (RFC 9051 7.2.2). Only what works end
 * to end is listed; LOGINDISABLED and the AUTH= mechanisms follow the TLS state.
 */

/** Session facts that change the capability list. */
export interface CapabilityFacts {
  authenticated: boolean;
  tls: boolean;
  /** STARTTLS is possible on this connection. */
  canStartTls: boolean;
  /** LOGIN/AUTHENTICATE are allowed now (TLS, loopback or config). */
  plaintextAllowed: boolean;
  appendLimit: number;
}

import { scramMechanisms } from '../auth/scram.js';

const BASE = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
const AFTER_AUTH = [
  'NAMESPACE',
  'UNSELECT',
  'UIDPLUS',
  'MOVE',
  'CHILDREN',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'SPECIAL-USE',
  'ESEARCH',
  'SORT', // RFC 5256 3: UID SORT too; search keys as SEARCH
  'SORT=DISPLAY', // RFC 5957: DISPLAYFROM, DISPLAYTO
  'ESORT', // RFC 5267 3: SORT RETURN (MIN MAX COUNT ALL) answers ESEARCH
  'THREAD=ORDEREDSUBJECT', // RFC 5256 3, UID THREAD too
  'THREAD=REFERENCES', // RFC 5256 3: the JWZ algorithm with subject grouping
  'SEARCHRES',
  'STATUS=SIZE',
  'BINARY',
  'OBJECTID', // RFC 8474: MAILBOXID (CREATE, SELECT, STATUS), EMAILID/THREADID (FETCH, SEARCH)
  'PREVIEW', // RFC 8970: FETCH PREVIEW [(LAZY)], indexed at delivery
  'SAVEDATE', // RFC 8514: FETCH SAVEDATE, SEARCH SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED
  'WITHIN', // RFC 5032: SEARCH OLDER/YOUNGER
  'CONDSTORE', // RFC 7162 3.1: MODSEQ per message, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ, never NOMODSEQ
  'QRESYNC', // RFC 7162 3.2: SELECT (QRESYNC ...), VANISHED, UID FETCH ... (CHANGEDSINCE n VANISHED); expunge log kept per mailbox
];

/** The capability atoms for the current state, in a stable order. */
export function capabilities(f: CapabilityFacts): string[] {
  const caps = [...BASE];
  if (!f.authenticated) {
    if (f.canStartTls && !f.tls) caps.push('STARTTLS');
    // SCRAM follows the plaintext policy too: an eavesdropper could test guesses offline against
    // a SCRAM exchange seen in the clear. -PLUS needs a channel to bind to.
    if (f.plaintextAllowed) caps.push(...scramMechanisms(f.tls).map((m) => `AUTH=${m}`), 'AUTH=PLAIN', 'AUTH=LOGIN');
    else caps.push('LOGINDISABLED'); // RFC 9051 6.2.3: LOGIN refused before TLS
    return caps;
  }
  return [...caps, ...AFTER_AUTH, `APPENDLIMIT=${f.appendLimit}`];
}
