/**
 * RFC 5322 3.4 address lists for ENVELOPE, with groups (RFC 9051 7.5.2: a group
 * start is (NIL NIL "name" NIL), its end (NIL NIL NIL NIL)). Follows Dovecot's
 * message-address parser, including its repairs of broken input: a missing
 * mailbox or domain becomes MISSING_MAILBOX / MISSING_DOMAIN, an unparsable
 * angle address gets the domain SYNTAX_ERROR. Input and output are latin1 strings.
 */
import type { Address } from './types.js';
import { Rfc822Reader } from './rfc822-tokens.js';

interface Draft {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
  invalid: boolean;
}

const AT = 64;
const LT = 60;
const GT = 62;
const COLON = 58;
const SEMI = 59;
const COMMA = 44;
const QUOTE = 34;

function emptyDraft(): Draft {
  return { name: null, route: null, mailbox: null, domain: null, invalid: false };
}

class AddressParser {
  readonly out: Address[] = [];
  addr: Draft = emptyDraft();

  constructor(readonly r: Rfc822Reader) {}

  push(): void {
    const a = this.addr;
    this.out.push({ name: a.name, adl: a.route, mailbox: a.mailbox, host: a.domain });
    this.addr = emptyDraft();
  }

  pushFixed(): void {
    if (this.addr.mailbox === null) this.addr.mailbox = 'MISSING_MAILBOX';
    if (this.addr.domain === null || this.addr.domain === '') this.addr.domain = 'MISSING_DOMAIN';
    this.push();
  }

  localPart(): number {
    const out: string[] = [];
    const ret = this.r.peek() === QUOTE ? this.r.quotedString(out) : this.r.dotAtom(out);
    if (ret < 0) return -1;
    this.addr.mailbox = out.join('');
    return ret;
  }

  domain(): number {
    const out: string[] = [];
    const ret = this.r.domain(out);
    if (ret < 0) return -1;
    this.addr.domain = out.join('');
    return ret;
  }

  /** obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
  domainList(): number {
    const out: string[] = [];
    for (;;) {
      if (this.r.atEnd) return 0;
      if (this.r.peek() !== AT) break;
      if (out.length > 0) out.push(',');
      out.push('@');
      const ret = this.r.domain(out);
      if (ret <= 0) return ret;
      while (this.r.skipLwsp() > 0 && this.r.peek() === COMMA) this.r.pos++;
    }
    this.addr.route = out.join('');
    return 1;
  }

  /** "<" [route ":"] local-part "@" domain ">" */
  angleAddr(): number {
    const r = this.r;
    r.pos++;
    if (r.skipLwsp() <= 0) return -1;
    if (r.peek() === AT) {
      if (this.domainList() > 0 && r.peek() === COLON) r.pos++;
      else {
        this.addr.route = 'INVALID_ROUTE';
        if (r.atEnd) return -1;
      }
      if (r.skipLwsp() <= 0) return -1;
    }
    if (r.peek() !== GT) {
      if (this.localPart() <= 0) return -1;
      if (r.peek() === AT && this.domain() <= 0) return -1;
    }
    if (r.peek() !== GT) return -1;
    r.pos++;
    return r.skipLwsp();
  }

  nameAddr(): number {
    const out: string[] = [];
    if (this.r.phrase(out) <= 0 || this.r.peek() !== LT) return -1;
    const name = out.join('');
    this.addr.name = name === '' ? null : name;
    if (this.angleAddr() < 0) {
      this.addr.domain = 'SYNTAX_ERROR';
      this.addr.invalid = true;
    }
    return this.r.atEnd ? 0 : 1;
  }

  addrSpec(): number {
    const r = this.r;
    let ret2 = -2;
    r.lastComment = '';
    const quoted = r.peek() === QUOTE;
    let ret = this.localPart();
    if (ret <= 0) this.addr.invalid = true;
    if (ret !== 0 && !r.atEnd && r.peek() === AT) {
      ret2 = this.domain();
      if (ret2 <= 0) ret = ret2;
    }
    if (r.lastComment) {
      this.addr.name = r.lastComment;
    } else if (ret2 === -2) {
      // "user" alone is a mailbox; "user more words" is a display name
      const out: string[] = [this.addr.mailbox ?? '', ' '];
      const before = out.join('').length;
      this.r.phrase(out);
      const joined = out.join('');
      if (joined.length !== before) {
        this.addr.mailbox = null;
        this.addr.name = joined;
      } else if (!quoted) {
        this.addr.domain = '';
      }
      this.addr.invalid = true;
      ret = -1;
    }
    return ret;
  }

  mailbox(): number {
    const start = this.r.pos;
    let ret = this.nameAddr();
    if (ret < 0) {
      this.r.pos = start;
      this.addr = emptyDraft();
      ret = this.addrSpec();
      const a = this.addr;
      if (a.invalid && a.name === null && a.mailbox !== null && a.domain === null) {
        a.name = a.mailbox;
        a.mailbox = null;
      }
    }
    this.pushFixed();
    return ret;
  }

  group(): number {
    const r = this.r;
    const out: string[] = [];
    if (r.phrase(out) <= 0 || r.peek() !== COLON) return -1;
    r.pos++;
    let ret = r.skipLwsp();
    this.addr.mailbox = out.join('');
    this.push();
    if (ret > 0 && r.peek() !== SEMI) {
      for (;;) {
        this.mailbox(); // a broken mailbox: continue anyway
        if (r.atEnd || r.peek() !== COMMA) break;
        r.pos++;
        if (r.skipLwsp() <= 0) {
          ret = -1;
          break;
        }
      }
    }
    if (ret >= 0) {
      if (r.atEnd || r.peek() !== SEMI) ret = -1;
      else {
        r.pos++;
        ret = r.skipLwsp();
      }
    }
    this.push();
    return ret === 0 ? 0 : 1;
  }

  address(): number {
    const start = this.r.pos;
    const mark = this.out.length;
    const ret = this.group();
    if (ret >= 0) return ret;
    this.r.pos = start;
    this.out.length = mark;
    this.addr = emptyDraft();
    return this.mailbox();
  }

  list(): void {
    for (;;) {
      if (this.address() === 0) break;
      if (this.r.atEnd || this.r.peek() !== COMMA) break;
      this.r.pos++;
      const ret = this.r.skipLwsp();
      if (ret <= 0) {
        if (ret < 0) this.pushFixed(); // ends with garbage
        break;
      }
    }
  }
}

/**
 * Parses an address-list header value (unfolded or not; latin1). Returns null when
 * there is no address at all, which IMAP shows as NIL.
 */
export function parseAddressList(value: string): Address[] | null {
  const r = new Rfc822Reader(value, true);
  if (r.skipLwsp() <= 0) return null;
  const p = new AddressParser(r);
  p.list();
  return p.out.length > 0 ? p.out : null;
}
