/**
 * URLAUTH (RFC 4467) signing and resolution, the one place its checks live: IMAP
 * GENURLAUTH/URLFETCH and SMTP BURL (RFC 4468, which resolves URLs inside this process
 * rather than over an IMAP connection) both call it, so BURL applies exactly URLFETCH's rules.
 *
 * Mechanism INTERNAL: the token is a version byte ("01") and HMAC-SHA1 (RFC 2104) keyed
 * with the owner's mailbox access key over the rump URL's exact bytes (RFC 4467 2.4.1, 5, 6),
 * in lower-case hex. The version lets a later algorithm live beside this one (RFC 4467 10).
 *
 * Invariant: every failure of resolution is the same `null`, and a URL whose owner or
 * mailbox does not exist still costs the same lookups and an HMAC (with a random key), so
 * neither the answer nor its timing tells an unknown mailbox from a wrong key (RFC 4467 6).
 * A missing message is only learnt with a valid token, by whoever the URL authorizes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Id, Store, Uid, User } from '../../store/types.js';
import { normalizeMailboxName } from '../protocol/index.js';
import { cachedContent } from '../content-cache.js';
import { findPart } from '../../mime/sections.js';
import { sectionData, type BodyData } from '../commands/fetch-body.js';
import { ImapNo } from '../errors.js';
import { parseAuthUrl, type AuthUrl, type UrlAccess } from './auth-url.js';

/** The one mechanism offered (RFC 4467 2.4.1). */
export const INTERNAL = 'INTERNAL';
const TOKEN_VERSION = '01';

/** The INTERNAL token of a rump URL under a mailbox access key. */
export function internalToken(key: Buffer, rump: string): string {
  return TOKEN_VERSION + createHmac('sha1', key).update(rump, 'utf8').digest('hex');
}

function tokenMatches(key: Buffer, rump: string, token: string): boolean {
  const want = Buffer.from(internalToken(key, rump), 'latin1');
  const got = Buffer.from(token.toLowerCase(), 'latin1');
  // Compared whatever the lengths, so a short token costs the same as a long one
  return timingSafeEqual(want, got.length === want.length ? got : want) && got.length === want.length;
}

/** Stands in for a key when the owner or mailbox is unknown (RFC 4467 6 "plausible" keys). */
const PLAUSIBLE_KEY = randomBytes(32);

/** Who is asking: an IMAP session logged in as a user, or the submission server acting for its logged-in user (BURL). */
export type UrlRequester = { kind: 'session'; user: User } | { kind: 'submit'; onBehalfOf: User };

const sameUser = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * RFC 4467 3: submit+ only for a submission entity (here: this server's own submission,
 * and only for the user it authenticated, RFC 4468 3.3), user+ only for that user's
 * sessions, authuser for any logged-in session (URLFETCH needs one), anonymous for anyone.
 */
export function accessAllows(access: UrlAccess, who: UrlRequester): boolean {
  switch (access.kind) {
    case 'anonymous':
    case 'authuser':
      return true;
    case 'user':
      return who.kind === 'session' && sameUser(access.user, who.user.address);
    case 'submit':
      return who.kind === 'submit' && sameUser(access.user, who.onBehalfOf.address);
  }
}

/** No row has this id (ids are 31-bit and start at 1): a lookup with it finds nothing, at the usual cost. */
const NO_ROW = 2 ** 31 - 1;

/**
 * Owner, mailbox and key of a URL. The same three lookups run whether or not the owner
 * and mailbox exist, so their cost does not tell which one is missing.
 */
async function locate(store: Store, url: AuthUrl): Promise<{ owner: User; mailboxId: Id; uidValidity: number; key: Buffer } | null> {
  const owner = await store.getUser(url.target.user);
  const box = await store.getMailbox(owner?.id ?? NO_ROW, normalizeMailboxName(url.target.mailbox));
  const key = await store.getUrlAuthKey(owner?.id ?? NO_ROW, box?.id ?? NO_ROW);
  return owner && box && key ? { owner, mailboxId: box.id, uidValidity: box.uidValidity, key } : null;
}

/**
 * The data a URLAUTH-authorized URL names (URLFETCH, BURL), or null when it is invalid for
 * any reason: not such a URL, unknown mechanism, wrong token, expired, access not granted
 * to `who`, or no such message or section. Read with the owner's rights (RFC 4467 7).
 */
export async function resolveAuthUrl(store: Store, text: string, who: UrlRequester, now = new Date()): Promise<BodyData | null> {
  const url = parseAuthUrl(text);
  if (!url || url.token === undefined || url.mechanism?.toUpperCase() !== INTERNAL) return null;
  const where = await locate(store, url);
  const valid = tokenMatches(where?.key ?? PLAUSIBLE_KEY, url.rump, url.token);
  if (!where || !valid) return null;
  if (url.expire && url.expire.getTime() < now.getTime()) return null; // RFC 4467 3: MUST reject after EXPIRE
  if (!accessAllows(url.access, who)) return null;
  const t = url.target;
  if (t.uidValidity !== undefined && t.uidValidity !== where.uidValidity) return null;
  const [row] = await store.getMessages(where.mailboxId, [t.uid as Uid], where.owner.id);
  const meta = row ? await cachedContent(store, row.contentId) : null;
  if (!meta) return null;
  // FETCH answers a part the message lacks with an empty string; a URL to it names nothing (RFC 4467 7: NIL)
  if (t.section && t.section.part.length > 0 && !findPart(meta.index, t.section.part)) return null;
  try {
    return await sectionData(store, meta, t.section ?? { part: [] }, t.partial);
  } catch (err) {
    if (err instanceof ImapNo) return null; // a section the message does not have
    throw err;
  }
}

/** Why GENURLAUTH refuses a URL (tagged BAD, RFC 4467 7), or the parsed rump. */
export function genUrlAuthTarget(text: string): AuthUrl | string {
  if (!/;URLAUTH=/i.test(text)) return 'missing access identifier in supplied URL';
  if (!/^imap:\/\/[^/@]+@/i.test(text)) return 'missing owner username in supplied URL';
  const url = parseAuthUrl(text);
  if (!url) return 'not a URL to a message or message part ending in ;URLAUTH=access (RFC 4467 9)';
  if (url.mechanism !== undefined) return 'supplied URL already carries a mechanism and token';
  return url;
}

/**
 * The URLAUTH-authorized form of a rump for its owner (RFC 4467 5): the mailbox's key is
 * made when there is none. The caller has checked that `owner` is the logged-in user.
 */
export async function signAuthUrl(store: Store, owner: User, mailboxId: Id, url: AuthUrl): Promise<string> {
  const key = await store.ensureUrlAuthKey(owner.id, mailboxId);
  return `${url.rump}:internal:${internalToken(key, url.rump)}`;
}
