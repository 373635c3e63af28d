// LIST [select-opts] reference patterns [RETURN (opts)]   RFC9051 6.3.9, RFC5258 (LIST-EXTENDED),
// RFC6154 (SPECIAL-USE), RFC5819 (LIST-STATUS), RFC9590 (LIST-METADATA), RFC3348 (CHILDREN), RFC8440 (LIST-MYRIGHTS);
// LSUB RFC3501 6.3.9; NAMESPACE RFC2342, shared namespaces RFC4314 (see mailbox-access.ts)
import { ALL_RIGHTS } from '../../store/types.js';
import type { ImapSession } from '../session.js';
import { OTHER_USERS, SHARED, sharedName, sharedViewerId, type AccessibleMailbox } from '../mailbox-access.js';
import { myRightsLine } from './acl.js';
import { formatMailbox, normalizeMailboxName, parseListMetadata, type ArgReader, type ListMetadataOption } from '../protocol/index.js';
import { lookupMetadata, metadataResponse, metadataScope } from './metadata.js';
import { parseStatusItems, statusLine } from './status.js';
import type { ImapCommand } from './types.js';

interface ListOptions {
  subscribedOnly: boolean;
  recursive: boolean;
  specialUseOnly: boolean;
  returnSubscribed: boolean;
  returnStatus: string[] | null;
  /** RFC 9590: METADATA responses after each mailbox's LIST. */
  returnMetadata: ListMetadataOption | null;
  /** RFC 8440: MYRIGHTS after each mailbox's LIST. */
  returnMyRights: boolean;
  extended: boolean;
}

/** A LIST pattern as an anchored regex: `*` any, `%` any but the delimiter (RFC 9051 6.3.9). */
export function patternRegex(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '%' ? '[^/]*' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

function matches(re: RegExp, name: string): boolean {
  if (re.test(name)) return true;
  // INBOX is case-insensitive (RFC 9051 5.1): "inbox" and "Inbox/%" find it
  return name === 'INBOX' || name.startsWith('INBOX/') ? new RegExp(re.source, 'is').test(name) : false;
}

function parseOptions(args: ArgReader): { opts: ListOptions; reference: string; patterns: string[] } {
  const opts: ListOptions = { subscribedOnly: false, recursive: false, specialUseOnly: false, returnSubscribed: false, returnStatus: null, returnMetadata: null, returnMyRights: false, extended: false };
  if (args.peekByte() === 0x28) {
    opts.extended = true;
    for (const o of args.list((r) => r.atom('selection option').toUpperCase(), { allowEmpty: true, what: 'selection options' })) {
      if (o === 'SUBSCRIBED') opts.subscribedOnly = true;
      else if (o === 'RECURSIVEMATCH') opts.recursive = true;
      else if (o === 'SPECIAL-USE') opts.specialUseOnly = true;
      else if (o !== 'REMOTE') throw args.error(`Unknown LIST selection option ${o.slice(0, 30)}`); // RFC 5258 3: BAD
    }
    // RFC 5258 3.1: RECURSIVEMATCH alone is a syntax error
    if (opts.recursive && !opts.subscribedOnly) throw args.error('RECURSIVEMATCH needs another selection option');
    args.sp('after selection options');
  }
  const reference = args.mailbox();
  args.sp('after reference name');
  let patterns: string[];
  if (args.peekByte() === 0x28) {
    opts.extended = true;
    patterns = args.list((r) => r.listMailbox(), { what: 'mailbox patterns' });
  } else patterns = [args.listMailbox()];
  if (args.optionalSp()) {
    const word = args.atom('RETURN').toUpperCase();
    if (word !== 'RETURN') throw args.error(`Expected RETURN, got ${word.slice(0, 20)}`);
    args.sp('after RETURN');
    opts.extended = true;
    args.list(
      (r) => {
        const o = r.atom('return option').toUpperCase();
        if (o === 'SUBSCRIBED') opts.returnSubscribed = true;
        else if (o === 'STATUS') {
          r.sp('after STATUS');
          opts.returnStatus = parseStatusItems(r);
        } else if (o === 'METADATA' && !opts.returnMetadata) {
          r.sp('after METADATA');
          opts.returnMetadata = parseListMetadata(r);
        } else if (o === 'MYRIGHTS') opts.returnMyRights = true;
        else if (o !== 'CHILDREN' && o !== 'SPECIAL-USE') throw r.error(`Unknown LIST return option ${o.slice(0, 30)}`);
        return o;
      },
      { allowEmpty: true, what: 'return options' },
    );
  }
  args.end();
  return { opts, reference, patterns };
}

/**
 * Every mailbox LIST may show, by the name the client sees: the user's own, and other users'
 * he holds `l` on (RFC 4314 4), under Other Users/ or Shared/ (mailbox-access.ts), without
 * their special use (that is the owner's).
 */
async function visibleMailboxes(s: ImapSession): Promise<Map<string, AccessibleMailbox>> {
  const store = s.services.store;
  const user = s.user();
  const viewer = s.login?.viewerId ?? user.id;
  const out = new Map<string, AccessibleMailbox>();
  for (const b of await store.listMailboxes(user.id)) out.set(b.name, { ...b, rights: ALL_RIGHTS, path: b.name, own: true, viewerId: viewer });
  const shared = (await store.sharedWith(user.id)).filter((m) => m.rights.includes('l'));
  const rows = await Promise.all(shared.map((m) => store.getMailboxById(m.mailboxId)));
  shared.forEach((m, i) => {
    const b = rows[i];
    // a personal mailbox of that name (made before sharing) wins, as in resolveMailbox
    if (b && !b.recentlyDeleted && !out.has(sharedName(m))) out.set(sharedName(m), { ...b, name: sharedName(m), path: b.name, specialUse: null, rights: m.rights, own: false, viewerId: sharedViewerId(s) });
  });
  return out;
}

function parentsOf(name: string): string[] {
  const levels = name.split('/');
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join('/'));
  return out;
}

export const list = {
  name: 'LIST',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    const { opts, reference, patterns } = parseOptions(args);
    if (patterns.length === 1 && patterns[0] === '') {
      s.send(`* LIST (\\Noselect) "/" ""\r\n`); // RFC 9051 6.3.9: the delimiter and root
      return;
    }
    const store = s.services.store;
    const user = s.user();
    const boxes = await visibleMailboxes(s);
    const subs = new Set(opts.subscribedOnly || opts.returnSubscribed ? await store.listSubscriptions(user.id) : []);
    const regexes = patterns.map((p) => patternRegex(normalizeMailboxName(reference + p)));
    const wildcardPercent = patterns.some((p) => p.includes('%'));
    const names = new Set<string>(opts.subscribedOnly ? subs : boxes.keys());
    if (!opts.subscribedOnly && wildcardPercent) for (const n of boxes.keys()) for (const p of parentsOf(n)) names.add(p);
    if (opts.recursive) for (const n of subs) for (const p of parentsOf(n)) names.add(p);
    const hasChildren = (n: string) => [...boxes.keys()].some((b) => b.startsWith(`${n}/`));
    const out: (string | Buffer)[] = [];
    let longest = 0;
    for (const name of [...names].sort(byName)) {
      if (!regexes.some((re) => matches(re, name))) continue;
      const box = boxes.get(name);
      if (opts.specialUseOnly && !box?.specialUse) continue;
      // RFC 5258 3.5 (example 9): CHILDINFO only for a subscribed descendant that is not itself returned
      const subscribedChild = opts.recursive && [...subs].some((n) => n.startsWith(`${name}/`) && !regexes.some((re) => matches(re, n)));
      if (opts.subscribedOnly && !subs.has(name) && !subscribedChild) continue;
      const attrs: string[] = [];
      if (!box) attrs.push(opts.extended || s.rev2 ? '\\NonExistent' : '\\Noselect');
      // Recently Deleted cannot have children (RFC 3348 4: \Noinferiors implies \HasNoChildren)
      if (box?.recentlyDeleted) attrs.push('\\Noinferiors');
      else attrs.push(hasChildren(name) ? '\\HasChildren' : '\\HasNoChildren');
      if (box?.specialUse) attrs.push(box.specialUse);
      if ((opts.returnSubscribed || opts.subscribedOnly) && subs.has(name)) attrs.push('\\Subscribed');
      const ext = subscribedChild ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
      out.push(`* LIST (${attrs.join(' ')}) "/" ${formatMailbox(name, s.utf8)}${ext}\r\n`);
      if (opts.returnStatus && box && box.rights.includes('r')) out.push(await statusLine(s, box, opts.returnStatus)); // RFC 5819: after its LIST
      if (opts.returnMyRights && box) out.push(myRightsLine(s, box)); // RFC 8440 3
      if (opts.returnMetadata && box && box.rights.includes('r')) {
        const m = opts.returnMetadata;
        const r = metadataResponse(s, box.name, await lookupMetadata(s, metadataScope(s, box), m.entries, 0), m.maxSize);
        if (r.bytes) out.push(r.bytes);
        longest = Math.max(longest, r.longest);
      }
    }
    s.sendBytes(Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))));
    if (longest > 0) return { code: `METADATA LONGENTRIES ${longest}` }; // RFC 9590 3 with MAXSIZE
  },
} as const satisfies ImapCommand;

function byName(a: string, b: string): number {
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const lsub = {
  name: 'LSUB',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    const reference = args.mailbox();
    args.sp('after reference name');
    const pattern = args.listMailbox();
    args.end();
    const store = s.services.store;
    const user = s.user();
    const boxes = new Set((await visibleMailboxes(s)).keys());
    const re = patternRegex(normalizeMailboxName(reference + pattern));
    const subs = await store.listSubscriptions(user.id);
    const subscribed = new Set(subs);
    const noselect = new Map<string, boolean>();
    for (const name of subs) if (matches(re, name)) noselect.set(name, !boxes.has(name));
    // RFC 3501 6.3.9: with "%", an unsubscribed parent of a subscribed child the pattern cuts off
    // is returned instead of the child, and MUST be flagged \Noselect
    if (pattern.includes('%')) {
      for (const name of subs) {
        if (matches(re, name)) continue;
        for (const p of parentsOf(name)) if (!subscribed.has(p) && matches(re, p)) noselect.set(p, true);
      }
    }
    const out: string[] = [];
    for (const name of [...noselect.keys()].sort(byName)) {
      out.push(`* LSUB (${noselect.get(name) ? '\\Noselect' : ''}) "/" ${formatMailbox(name, s.utf8)}\r\n`);
    }
    s.send(out.join(''));
  },
} as const satisfies ImapCommand;

export const namespace = {
  name: 'NAMESPACE',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    args.end();
    // RFC 2342 5: the personal namespace, other users' (Other Users/<address>/...) and shared (Shared/<address>/...)
    s.send(`* NAMESPACE (("" "/")) (("${OTHER_USERS}/" "/")) (("${SHARED}/" "/"))\r\n`);
  },
} as const satisfies ImapCommand;
