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
  /** The login may change quotas (src/mail/quota-admin.ts): SETQUOTA is offered (QUOTASET). */
  quotaAdmin: boolean;
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
  'CREATE-SPECIAL-USE', // RFC 6154 3: CREATE name (USE (\Sent)); \All and \Flagged refused with NO [USEATTR]
  'ESEARCH',
  'MULTISEARCH', // RFC 7377: ESEARCH IN (selected inboxes personal subscribed subtree subtree-one mailboxes) in authenticated and selected state
  'SORT', // RFC 5256 3: UID SORT too; search keys as SEARCH
  'SORT=DISPLAY', // RFC 5957: DISPLAYFROM, DISPLAYTO
  'ESORT', // RFC 5267 3: SORT RETURN (MIN MAX COUNT ALL) answers ESEARCH
  'CONTEXT=SEARCH', // RFC 5267 4: UID SEARCH RETURN (UPDATE), ESEARCH ADDTO/REMOVEFROM, CANCELUPDATE
  'CONTEXT=SORT', // RFC 5267 4: the same for UID SORT, with positions in sort order
  'PARTIAL', // RFC 9394: SEARCH/SORT RETURN (PARTIAL range), FETCH (PARTIAL range); not with UPDATE
  'UTF8=ACCEPT', // RFC 6855: ENABLE UTF8=ACCEPT, then UTF-8 mailbox names and APPEND ... UTF8 (~{n})
  'INPROGRESS', // RFC 9585: * OK [INPROGRESS ("tag" done total)] during long SEARCH/SORT/THREAD/COPY/MOVE (imap.inprogress_ms)
  'THREAD=ORDEREDSUBJECT', // RFC 5256 3, UID THREAD too
  'THREAD=REFERENCES', // RFC 5256 3: the JWZ algorithm with subject grouping
  'THREAD=REFS', // draft-ietf-morg-inthread: REFERENCES without subject grouping, threads by their latest message (as Dovecot 2.3)
  'SEARCHRES',
  'STATUS=SIZE',
  'BINARY',
  'OBJECTID', // RFC 8474: MAILBOXID (CREATE, SELECT, STATUS), EMAILID/THREADID (FETCH, SEARCH)
  'PREVIEW', // RFC 8970: FETCH PREVIEW [(LAZY)], indexed at delivery
  'SAVEDATE', // RFC 8514: FETCH SAVEDATE, SEARCH SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED
  'WITHIN', // RFC 5032: SEARCH OLDER/YOUNGER
  'CONDSTORE', // RFC 7162 3.1: MODSEQ per message, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ, never NOMODSEQ
  'QRESYNC', // RFC 7162 3.2: SELECT (QRESYNC ...), VANISHED, UID FETCH ... (CHANGEDSINCE n VANISHED); expunge log kept per mailbox
  'UIDONLY', // RFC 9586: ENABLE UIDONLY; then BAD [UIDREQUIRED] for numbers, * uid UIDFETCH, VANISHED for expunges
  'METADATA', // RFC 5464: GETMETADATA/SETMETADATA on mailboxes, /private per login (member), /shared per account
  'METADATA-SERVER', // RFC 5464 1: the same on the server (mailbox ""), /shared/admin from the configuration
  'LIST-METADATA', // RFC 9590: LIST ... RETURN (METADATA (entries [MAXSIZE n]))
  'UNAUTHENTICATE', // RFC 8437: back to not authenticated; mailbox closed, login released, ENABLEs reset
  'MULTIAPPEND', // RFC 3502: several messages in one APPEND, stored in one transaction, one APPENDUID
  'CATENATE', // RFC 4469: APPEND ... CATENATE (TEXT literal / URL imap-url), URLs to the user's own messages and sections, [BADURL], [TOOBIG]
  'REPLACE', // RFC 8508: REPLACE / UID REPLACE, append + expunge in one store transaction (device delete modes respected)
  'QUOTA', // RFC 9208: GETQUOTA, GETQUOTAROOT (one root "" per user), SETQUOTA for the quota admin, [OVERQUOTA]
  'QUOTA=RES-STORAGE', // RFC 9208 5.1: in KiB; STATUS DELETED-STORAGE
  'QUOTA=RES-MESSAGE', // RFC 9208 5.2; STATUS DELETED
  'NOTIFY', // RFC 5465: SELECTED(-DELAYED), INBOXES, PERSONAL, SUBSCRIBED, SUBTREE, MAILBOXES; MessageNew (fetch-att), MessageExpunge, FlagChange, MailboxName, SubscriptionChange; others BADEVENT
  'URLAUTH', // RFC 4467: GENURLAUTH (mechanism INTERNAL, HMAC-SHA1 with a per-user per-mailbox key), RESETKEY, URLFETCH; the user's own mailboxes
  'ACL', // RFC 4314: GETACL SETACL DELETEACL LISTRIGHTS MYRIGHTS; identifiers are addresses and anyone; no negative rights (NO [CANNOT])
  'RIGHTS=texk', // RFC 4314 2.1.1: t e x k are rights of their own; obsolete c = k+x, d = t+e
  'LIST-MYRIGHTS', // RFC 8440: LIST ... RETURN (MYRIGHTS)
  'COMPRESS=DEFLATE', // RFC 4978: raw DEFLATE both ways, flushed after every write burst; a second COMPRESS gets NO [COMPRESSIONACTIVE]
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
  return [...caps, ...AFTER_AUTH, ...(f.quotaAdmin ? ['QUOTASET'] : []), `APPENDLIMIT=${f.appendLimit}`];
}
