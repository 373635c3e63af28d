/**
 * The IMAP protocol codec: bytes in, typed commands out; typed responses in, strings out.
 *
 *   command-reader  framing: lines + literals ({n}, {n+}, ~{n}), limits, streaming sinks
 *   arg-reader      cursor over one command's arguments; parseCommand (tag, name, UID)
 *   seq-set         sequence sets, `$`, expansion, compact formatting
 *   mailbox-name    modified UTF-7, name validation
 *   search-parser   SEARCH keys into a typed tree, CHARSET, ESEARCH RETURN options
 *   fetch-parser    FETCH items with their response names, CHANGEDSINCE/VANISHED
 *   store-parser    STORE flags with UNCHANGEDSINCE
 *   select-params   SELECT/EXAMINE (CONDSTORE) and (QRESYNC (...))
 *   metadata-parser GETMETADATA/SETMETADATA arguments, LIST RETURN (METADATA (...))
 *   create-params   CREATE (USE (...)) of CREATE-SPECIAL-USE
 *   response        tagged/untagged/continuation lines, response codes, ESEARCH
 *   quota           SETQUOTA resource lists, QUOTA/QUOTAROOT responses (RFC 9208)
 *
 * Never imports: store, net, mail (ESLint enforces it); no I/O, no clocks.
 * Invariants:
 *  - Client input can only make a parser throw ImapParseError (fuzz-tested); its text is
 *    one line, safe to send, and names what was expected and where.
 *  - Framing does not depend on how the bytes were chunked.
 *  - Anything written by response.ts is one CRLF-terminated line unless it carries a literal.
 */
export * from './errors.js';
export * from './command-reader.js';
export * from './arg-reader.js';
export * from './seq-set.js';
export * from './mailbox-name.js';
export * from './search-parser.js';
export * from './fetch-parser.js';
export * from './store-parser.js';
export * from './select-params.js';
export * from './metadata-parser.js';
export * from './acl-rights.js';
export * from './create-params.js';
export * from './response.js';
export { formatString, formatNString } from './imap-string.js';
export * from './sort-parser.js';
export * from './partial-range.js';
export * from './quota.js';
export * from './notify-parser.js';
export * from './multisearch-parser.js';
