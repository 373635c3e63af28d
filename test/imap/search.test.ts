// SEARCH answered by the store's text index, over a real socket: substrings inside words,
// non-ASCII, RFC 2047 headers, attachments' text, short terms, terms only in binary parts,
// composition with the other keys; and a property test that, for random corpora and
// random criteria, the answer equals the scan the server did before it had an index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, startImapServer, USER } from './client.js';
import { indexMessage } from '../../src/mime/index-message.js';
import { addressSearchText, searchText } from '../../src/mime/search-text.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

interface Mail {
  from: string;
  subject: string;
  tag: string;
  body: string;
  attachment?: string;
  binary?: string;
  flagged?: boolean;
}

/** A MIME message: an RFC 2047 subject, a base64 UTF-8 body, optionally a text attachment and a binary part. */
function mime(m: Mail): string {
  const head = [`From: ${m.from}`, `To: ${USER}`, `Subject: =?utf-8?B?${b64(m.subject)}?=`, `X-Tag: ${m.tag}`, 'Date: Tue, 2 Jan 2024 10:00:00 +0000', 'MIME-Version: 1.0'];
  const text = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(m.body)];
  if (!m.attachment && !m.binary) return [...head, ...text, ''].join('\r\n');
  const parts = [text];
  if (m.attachment) parts.push(['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: attachment; filename="notes.txt"', 'Content-Transfer-Encoding: base64', '', b64(m.attachment)]);
  if (m.binary) parts.push(['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', b64(m.binary)]);
  return [...head, 'Content-Type: multipart/mixed; boundary="=b="', '', ...parts.flatMap((p) => ['--=b=', ...p]), '--=b=--', ''].join('\r\n');
}

async function append(c: Imap, box: string, raw: string, flags = ''): Promise<void> {
  const r = await c.cmd(`APPEND ${box} (${flags}) {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  assert.equal(r.status, 'OK', r.text);
}

/** `* SEARCH n…` as numbers. */
function numbers(text: string): number[] {
  const m = /^\* SEARCH([\d ]*)\r\n/m.exec(text);
  assert.ok(m, text);
  return m[1].trim() === '' ? [] : m[1].trim().split(' ').map(Number);
}

/** A literal, so any UTF-8 (and quotes or backslashes) reaches the server unchanged. */
const lit = (s: string): string => `{${Buffer.byteLength(s)}+}\r\n${s}`;

describe('IMAP SEARCH through the store text index', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('substrings in words, non-ASCII, encoded headers, attachments, short terms, binary parts', async () => {
    await c.ok('CREATE Cases');
    await append(c, 'Cases', mime({ from: 'Ann <ann@example.test>', subject: 'Ωmega plan', tag: 't1', body: 'the supercalifragilistic report' }));
    await append(c, 'Cases', mime({ from: 'Bob <bob@example.test>', subject: 'Grüße aus Köln', tag: 't2', body: 'zq ΣΟΦΙΑ', attachment: 'budget spreadsheet totals', binary: 'hiddenword inside a blob' }));
    await append(c, 'Cases', mime({ from: 'Cy <cy@example.test>', subject: 'plain', tag: 't3', body: 'nothing here' }), '\\Flagged');
    await c.ok('SELECT Cases');
    const uidSearch = async (q: string) => numbers(await c.ok(`UID SEARCH CHARSET UTF-8 ${q}`));
    assert.deepEqual(await uidSearch('TEXT califrag'), [1], 'middle of a word');
    assert.deepEqual(await uidSearch('BODY CALIFRAGILISTIC'), [1], 'any case');
    assert.deepEqual(await uidSearch(`TEXT ${lit('ωMEGA')}`), [1], 'RFC 2047 subject, Greek case folding');
    assert.deepEqual(await uidSearch(`SUBJECT ${lit('GRÜSSE')}`), [], 'a substring, no ß expansion');
    assert.deepEqual(await uidSearch(`SUBJECT ${lit('grüße')}`), [2]);
    assert.deepEqual(await uidSearch(`BODY ${lit('σοφια')}`), [2], 'non-ASCII body');
    assert.deepEqual(await uidSearch(`BODY ${lit('köln')}`), [], 'the subject is not body');
    assert.deepEqual(await uidSearch('BODY spreadsheet'), [2], "an attachment's text part");
    assert.deepEqual(await uidSearch('TEXT hiddenword'), [], 'a binary part is not text');
    assert.deepEqual(await uidSearch('TEXT zq'), [2], 'two characters: below the trigram length');
    assert.deepEqual(await uidSearch('BODY e'), [1, 2, 3], 'one character');
    assert.deepEqual(await uidSearch('TEXT ""'), [1, 2, 3], 'the empty string');
    assert.deepEqual(await uidSearch('HEADER X-Tag t2'), [2]);
    assert.deepEqual(await uidSearch('FROM ann@example.test'), [1]);
    assert.deepEqual(await uidSearch('NOT TEXT report'), [2, 3]);
    assert.deepEqual(await uidSearch('OR TEXT report FLAGGED'), [1, 3]);
    assert.deepEqual(await uidSearch('TEXT e UID 2:*'), [2, 3]);
    assert.deepEqual(await uidSearch('TEXT e NOT FLAGGED'), [1, 2]);
    assert.match(await c.ok('SEARCH RETURN (COUNT MIN) TEXT e'), /^\* ESEARCH \(TAG "t\d+"\) MIN 1 COUNT 3\r\n/m);
  });

  test('a message expunged by another session is not reported before the EXPUNGE is announced', async () => {
    await c.ok('CREATE Gone');
    await append(c, 'Gone', mime({ from: 'a <a@example.test>', subject: 's', tag: 'g', body: 'vanishing ink' }));
    await append(c, 'Gone', mime({ from: 'a <a@example.test>', subject: 's', tag: 'g', body: 'vanishing act' }));
    await c.ok('SELECT Gone');
    const other = await Imap.open(server.ports.imap!);
    await other.ok('SELECT Gone');
    await other.ok('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await other.ok('UID EXPUNGE 1');
    other.close();
    const r = await c.ok('UID SEARCH TEXT vanishing');
    assert.deepEqual(numbers(r), [2]);
  });

  test('header, size and flag keys without rows: messages delivered by another process, flags and expunges made elsewhere', async () => {
    // Delivered by `mailroom deliver`: this server process has none of their contents cached.
    for (let i = 1; i <= 12; i++) {
      const big = i % 4 === 0 ? `\r\n${'padding line\r\n'.repeat(400)}` : '';
      await deliver(server, mime({ from: `Sender ${i % 3} <s${i % 3}@example.test>`, subject: `cold ${i % 2 === 0 ? 'even' : 'odd'} ${i}`, tag: `c${i}`, body: `body ${i}${big}` }));
    }
    await c.ok('SELECT INBOX');
    const uidSearch = async (q: string) => numbers(await c.ok(`UID SEARCH ${q}`));
    const all = await uidSearch('ALL');
    assert.equal(all.length, 12);
    const at = (i: number) => all[i - 1];
    assert.deepEqual(await uidSearch('FROM s1@example.test'), [1, 4, 7, 10].map(at));
    assert.deepEqual(await uidSearch('SUBJECT even'), [2, 4, 6, 8, 10, 12].map(at));
    assert.deepEqual(await uidSearch('LARGER 3000'), [4, 8, 12].map(at));
    assert.deepEqual(await uidSearch('SENTON 2-Jan-2024 NOT SUBJECT odd FROM "sender 0"'), [6, 12].map(at));
    assert.deepEqual(await uidSearch('HEADER X-Tag c11'), [11].map(at));
    // Another session flags two and expunges one: the next SEARCH sees both without a NOOP first.
    const other = await Imap.open(server.ports.imap!);
    await other.ok('SELECT INBOX');
    await other.ok(`UID STORE ${at(2)},${at(3)} +FLAGS.SILENT (\\Seen)`);
    await other.ok(`UID STORE ${at(4)} +FLAGS.SILENT (\\Deleted)`);
    await other.ok(`UID EXPUNGE ${at(4)}`);
    other.close();
    const seen = await c.ok('UID SEARCH SEEN');
    assert.deepEqual(numbers(seen.slice(seen.indexOf('* SEARCH'))), [2, 3].map(at), seen);
    assert.deepEqual(await uidSearch('UNSEEN FROM s1@example.test'), [1, 7, 10].map(at), 'the expunged message is left out');
    assert.deepEqual(await uidSearch('SUBJECT even LARGER 3000'), [8, 12].map(at));
    await c.ok('UID STORE 1:* +FLAGS.SILENT (\\Deleted)');
    await c.ok('EXPUNGE');
  });

  test('equals the scan over random corpora and criteria (property)', async () => {
    const words = ['alpha', 'Beta', 'gamma', 'Δelta', 'grüße', 'ŒUVRE', 'naïve', 'ΣΟΦΙΑ', 'zq', 'x'];
    const word = fc.constantFrom(...words);
    const phrase = fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
    const mail = fc.record({
      from: fc.tuple(word, fc.constantFrom('ann', 'bob')).map(([n, l]) => `"${n}" <${l}@example.test>`),
      subject: phrase,
      tag: word.map((w) => w.replace(/[^\x21-\x7e]/g, 'q')),
      body: phrase,
      attachment: fc.option(phrase, { nil: undefined }),
      binary: fc.option(phrase, { nil: undefined }),
      flagged: fc.boolean(),
    });
    // A term: a word, or a piece of one, in random case.
    const term = fc.tuple(word, fc.nat(6), fc.nat(6), fc.boolean()).map(([w, a, n, up]) => {
      const cut = [...w].slice(a % w.length, (a % w.length) + 1 + n).join('');
      return up ? cut.toUpperCase() : cut.toLowerCase();
    });
    const key = fc.letrec<{ k: string }>((tie) => ({
      k: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        term.map((t) => `TEXT ${lit(t)}`),
        term.map((t) => `BODY ${lit(t)}`),
        term.map((t) => `SUBJECT ${lit(t)}`),
        term.map((t) => `FROM ${lit(t)}`),
        term.map((t) => `HEADER X-Tag ${lit(t)}`),
        fc.constant('FLAGGED'),
        fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })).map(([a, b]) => `UID ${a}:${b}`),
        tie('k').map((k) => `NOT ${k}`),
        fc.tuple(tie('k'), tie('k')).map(([a, b]) => `OR ${a} ${b}`),
        fc.tuple(tie('k'), tie('k')).map(([a, b]) => `(${a} ${b})`),
      ),
    })).k;
    let box = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mail, { minLength: 1, maxLength: 6 }), fc.array(key, { minLength: 1, maxLength: 5 }), async (mails, keys) => {
        const name = `Prop${box++}`;
        await c.ok(`CREATE ${name}`);
        for (const m of mails) await append(c, name, mime(m), m.flagged ? '\\Flagged' : '');
        await c.ok(`SELECT ${name}`);
        const corpus = mails.map((m, i) => oracleMessage(i + 1, mime(m), m.flagged === true));
        for (const k of keys) {
          const got = numbers(await c.ok(`UID SEARCH CHARSET UTF-8 ${k}`));
          const want = corpus.filter((m) => evalKey(parseKey(k), m)).map((m) => m.uid);
          assert.deepEqual(got, want, k);
        }
        await c.ok('CLOSE');
      }),
      { numRuns: 25 },
    );
  });
});

// The oracle: the pre-index evaluator's rules, on the search text the MIME code makes.

interface OracleMessage {
  uid: number;
  text: string;
  from: string;
  flagged: boolean;
}

function oracleMessage(uid: number, raw: string, flagged: boolean): OracleMessage {
  const bytes = Buffer.from(raw, 'utf8');
  const index = indexMessage(bytes);
  return { uid, text: searchText(bytes, index), from: addressSearchText(index.envelope.from).toLowerCase(), flagged };
}

type Key = { t: 'text' | 'body' | 'subject' | 'from' | 'x-tag'; v: string } | { t: 'flagged' } | { t: 'uid'; a: number; b: number } | { t: 'not'; k: Key } | { t: 'or'; l: Key; r: Key } | { t: 'and'; ks: Key[] };

/** Parses the keys the generator writes (literals in `{n+}\r\n` form). */
function parseKey(src: string): Key {
  let i = 0;
  const word = (): string => {
    const m = /^[^ ()]+/.exec(src.slice(i))!;
    i += m[0].length;
    return m[0];
  };
  const literal = (): string => {
    const m = /^\{(\d+)\+\}\r\n/.exec(src.slice(i))!;
    i += m[0].length;
    const bytes = Buffer.from(src.slice(i), 'utf8').subarray(0, Number(m[1])).toString('utf8');
    i += bytes.length;
    return bytes;
  };
  const one = (): Key => {
    if (src[i] === '(') {
      i++;
      const ks = [one()];
      while (src[i] === ' ') {
        i++;
        ks.push(one());
      }
      i++; // ')'
      return { t: 'and', ks };
    }
    const w = word().toUpperCase();
    const sp = () => i++;
    switch (w) {
      case 'NOT':
        sp();
        return { t: 'not', k: one() };
      case 'OR': {
        sp();
        const l = one();
        sp();
        return { t: 'or', l, r: one() };
      }
      case 'FLAGGED':
        return { t: 'flagged' };
      case 'UID': {
        sp();
        const [a, b] = word().split(':').map(Number);
        return { t: 'uid', a: Math.min(a, b), b: Math.max(a, b) };
      }
      case 'HEADER':
        sp();
        word();
        sp();
        return { t: 'x-tag', v: literal() };
      default:
        sp();
        return { t: w.toLowerCase() as 'text', v: literal() };
    }
  };
  return one();
}

function headerHas(text: string, field: string, value: string): boolean {
  const cut = text.indexOf('\n\n');
  for (const line of (cut < 0 ? text : text.slice(0, cut)).split('\n')) {
    const colon = line.indexOf(':');
    if (colon >= 0 && line.slice(0, colon).trim().toLowerCase() === field && line.slice(colon + 1).toLowerCase().includes(value.toLowerCase())) return true;
  }
  return false;
}

function evalKey(k: Key, m: OracleMessage): boolean {
  switch (k.t) {
    case 'and':
      return k.ks.every((x) => evalKey(x, m));
    case 'or':
      return evalKey(k.l, m) || evalKey(k.r, m);
    case 'not':
      return !evalKey(k.k, m);
    case 'flagged':
      return m.flagged;
    case 'uid':
      return m.uid >= k.a && m.uid <= k.b;
    case 'text':
      return m.text.toLowerCase().includes(k.v.toLowerCase());
    case 'body': {
      const cut = m.text.indexOf('\n\n');
      return (cut < 0 ? '' : m.text.slice(cut + 2)).toLowerCase().includes(k.v.toLowerCase());
    }
    case 'subject':
    case 'x-tag':
      return headerHas(m.text, k.t, k.v);
    case 'from':
      return headerHas(m.text, 'from', k.v) || m.from.includes(k.v.toLowerCase());
  }
}
