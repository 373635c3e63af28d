// GENURLAUTH url-rump mechanism *(SP url-rump SP mechanism)   RFC4467 7 (BASE.6.3.GENURLAUTH)
// RESETKEY [mailbox *(SP mechanism)]                          RFC4467 7 (BASE.6.3.RESETKEY)
// URLFETCH url-full *(SP url-full)                             RFC4467 7 (BASE.6.3.URLFETCH)
//
// Mechanism INTERNAL only; keys per user per mailbox in the store, signing and every check
// of a URL in src/imap/url/url-fetch.ts (shared with SMTP BURL). A URL can only be generated
// for the logged-in user's own mailboxes: there is no owner-type access to another user's
// key table (RFC 4467 7 (2)).
import { formatString, normalizeMailboxName } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { genUrlAuthTarget, INTERNAL, resolveAuthUrl, signAuthUrl } from '../url/url-fetch.js';
import { requireMailbox } from './util.js';
import { sendBody } from './fetch.js';
import type { ImapCommand } from './types.js';
import type { ArgReader } from '../protocol/index.js';

const AUTH = ['authenticated', 'selected'] as const;

/** A mechanism argument; BAD for any but INTERNAL (the only one in URLMECH). */
function mechanism(args: ArgReader): string {
  const name = args.atom('mechanism');
  if (name.toUpperCase() !== INTERNAL) throw new ImapNo(`Unsupported URLAUTH mechanism: ${name.slice(0, 40)}`, undefined, 'BAD');
  return INTERNAL;
}

export const genurlauth = {
  name: 'GENURLAUTH',
  states: AUTH,
  async run({ session: s, args }) {
    const pairs: string[] = [];
    do {
      pairs.push(args.astring('url-rump'));
      args.sp('after the URL');
      mechanism(args);
    } while (args.optionalSp());
    args.end();
    const me = s.user();
    const signed: string[] = [];
    // Every URL is checked before any key is made: one bad URL fails the command (RFC 4467 7)
    const targets = [];
    for (const text of pairs) {
      const url = genUrlAuthTarget(text);
      if (typeof url === 'string') throw new ImapNo(url, undefined, 'BAD');
      if (url.target.user.toLowerCase() !== me.address.toLowerCase()) throw new ImapNo('URL owner is not the logged-in user', undefined, 'BAD');
      const mailbox = await s.services.store.getMailbox(me.id, normalizeMailboxName(url.target.mailbox));
      if (!mailbox) throw new ImapNo('URL names a mailbox that does not exist', undefined, 'BAD'); // RFC 4467 7 (1)
      targets.push({ url, mailboxId: mailbox.id });
    }
    for (const t of targets) signed.push(await signAuthUrl(s.services.store, me, t.mailboxId, t.url));
    s.send(`* GENURLAUTH ${signed.map((u) => formatString(u, true)).join(' ')}\r\n`);
  },
} as const satisfies ImapCommand;

export const resetkey = {
  name: 'RESETKEY',
  states: AUTH,
  async run({ session: s, args }) {
    if (args.atEnd()) {
      args.end();
      await s.services.store.resetUrlAuthKeys(s.user().id, null);
      return { text: 'All keys removed' };
    }
    const name = args.mailbox();
    while (args.optionalSp()) mechanism(args);
    args.end();
    const box = await requireMailbox(s, name);
    await s.services.store.resetUrlAuthKeys(s.user().id, box.id);
    return { code: `URLMECH ${INTERNAL}`, text: 'Key reset' }; // RFC 4467 8 (BASE.7.1): URLMECH in the tagged OK
  },
} as const satisfies ImapCommand;

export const urlfetch = {
  name: 'URLFETCH',
  states: AUTH,
  async run({ session: s, args }) {
    const urls: string[] = [];
    do urls.push(args.astring('url-full'));
    while (args.optionalSp());
    args.end();
    const who = { kind: 'session', user: s.user() } as const;
    for (const url of urls) {
      // RFC 4467 7: NIL for a URL invalid for any reason, the same answer whatever the reason
      const data = await resolveAuthUrl(s.services.store, url, who);
      s.cork();
      try {
        s.send(`* URLFETCH ${formatString(url, true)} `);
        if (data) await sendBody(s, data);
        else s.send('NIL');
        s.send('\r\n');
      } finally {
        s.uncork();
      }
    }
  },
} as const satisfies ImapCommand;
