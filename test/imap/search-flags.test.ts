// SEARCH by flags alone (UNSEEN, FLAGGED, KEYWORD ...), answered from the selected view's
// interned flag lists, over a real socket: keywords compare case-insensitively (RFC 9051
// 2.3.2), every flag list gives its own verdict, a change made by another session counts at
// the next SEARCH, and a message expunged elsewhere but not yet announced is left out
// (RFC 9051 7.5.1). The expected answers come from a model of the flags kept by the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, startImapServer } from './client.js';

/** `* SEARCH n…` as numbers. */
function numbers(text: string): number[] {
  const m = /^\* SEARCH([\d ]*)\r\n/m.exec(text);
  assert.ok(m, text);
  return m[1].trim() === '' ? [] : m[1].trim().split(' ').map(Number);
}

const FLAG_LISTS = ['', '\\Seen', '\\Seen \\Flagged', '$Label', '\\Seen $label', '$LABEL \\Flagged', '\\Answered'];

describe('SEARCH by flags', () => {
  let server: RunningTestServer;
  let a: Imap;
  let b: Imap;
  /** UID → flags, as stored. */
  const model = new Map<number, string[]>();

  before(async () => {
    server = await startImapServer();
    a = await Imap.open(server.ports.imap!);
    b = await Imap.open(server.ports.imap!);
    await a.ok('CREATE Flags');
    for (let i = 0; i < 21; i++) {
      const flags = FLAG_LISTS[i % FLAG_LISTS.length];
      const body = `Subject: m${i}\r\n\r\nbody ${i}\r\n`;
      const r = await a.ok(`APPEND Flags (${flags}) {${body.length}+}\r\n${body}`);
      model.set(Number(/APPENDUID \d+ (\d+)/.exec(r)![1]), flags === '' ? [] : flags.split(' '));
    }
    await a.ok('SELECT Flags');
    await b.ok('SELECT Flags');
  });
  after(async () => {
    a?.close();
    b?.close();
    await server?.stop();
  });

  const has = (uid: number, flag: string) => model.get(uid)!.some((f) => f.toLowerCase() === flag.toLowerCase());
  const uids = (pred: (uid: number) => boolean) => [...model.keys()].filter(pred).sort((x, y) => x - y);

  const cases: [string, (uid: number) => boolean][] = [
    ['UNSEEN', (u) => !has(u, '\\Seen')],
    ['SEEN', (u) => has(u, '\\Seen')],
    ['FLAGGED UNSEEN', (u) => has(u, '\\Flagged') && !has(u, '\\Seen')],
    ['KEYWORD $label', (u) => has(u, '$label')],
    ['KEYWORD $LaBeL', (u) => has(u, '$label')],
    ['UNKEYWORD $Label', (u) => !has(u, '$label')],
    ['OR ANSWERED FLAGGED', (u) => has(u, '\\Answered') || has(u, '\\Flagged')],
    ['NOT SEEN NOT KEYWORD $label', (u) => !has(u, '\\Seen') && !has(u, '$label')],
    ['UNSEEN UNSEEN', (u) => !has(u, '\\Seen')],
  ];

  test('each flag key over every interned flag list, keywords in any case', async () => {
    for (const [query, pred] of cases) assert.deepEqual(numbers(await a.ok(`UID SEARCH ${query}`)), uids(pred), query);
  });

  test('a flag changed by another session counts at the next SEARCH; an unannounced expunge is left out', async () => {
    const [first, second, third] = [...model.keys()].sort((x, y) => x - y);
    await b.ok(`UID STORE ${first} +FLAGS (\\Seen $Label)`);
    model.get(first)!.push('\\Seen', '$Label');
    await b.ok(`UID STORE ${second} -FLAGS (\\Seen)`);
    model.set(second, model.get(second)!.filter((f) => f !== '\\Seen'));
    await b.ok(`UID STORE ${third} +FLAGS (\\Deleted)`);
    await b.ok(`UID EXPUNGE ${third}`);
    // by sequence number first: the expunged message keeps its number until announced (RFC 9051 7.5.1) and is no match
    const numbered = [...model.keys()].sort((x, y) => x - y);
    model.delete(third);
    const r = await a.cmd('SEARCH UNSEEN');
    assert.doesNotMatch(r.text, /EXPUNGE/, 'SEARCH announces no expunge');
    assert.deepEqual(numbers(r.text), numbered.flatMap((u, i) => (model.has(u) && !has(u, '\\Seen') ? [i + 1] : [])));
    for (const [query, pred] of cases) assert.deepEqual(numbers(await a.ok(`UID SEARCH ${query}`)), uids(pred), query);
  });

  test('by number with UID gaps, and a matching message expunged elsewhere is left out until announced', async () => {
    await a.ok('NOOP');
    const unseen = uids((u) => !has(u, '\\Seen'));
    const gone = unseen[1];
    await b.ok(`UID STORE ${gone} +FLAGS (\\Deleted)`);
    await b.ok(`UID EXPUNGE ${gone}`);
    const numbered = [...model.keys()].sort((x, y) => x - y); // a still numbers `gone`
    model.delete(gone);
    const seqsOf = (pred: (uid: number) => boolean) => numbered.flatMap((u, i) => (model.has(u) && pred(u) ? [i + 1] : []));
    for (const [query, pred] of cases) {
      const r = await a.cmd(`SEARCH ${query}`);
      assert.doesNotMatch(r.text, /EXPUNGE/, query);
      assert.deepEqual(numbers(r.text), seqsOf(pred), query);
    }
    await a.ok('NOOP');
    const after = [...model.keys()].sort((x, y) => x - y);
    for (const [query, pred] of cases) assert.deepEqual(numbers(await a.ok(`SEARCH ${query}`)), after.flatMap((u, i) => (pred(u) ? [i + 1] : [])), query);
  });
});
