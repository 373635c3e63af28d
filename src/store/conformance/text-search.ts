/**
 * Conformance of `Store.searchText` (SEARCH TEXT / BODY in the store): every backend runs
 * it (called from storeConformanceSuite). The answer must be exact whatever the backend's
 * index does, so beside the table of cases a property test compares it with the rule as
 * the IMAP server applied it before the store had an index: a case-insensitive substring
 * of the search text (or of the part after the first blank line, for BODY), in JavaScript.
 *
 * Never imports: a backend, protocol code, src/mail, the rule's own implementation (the
 * oracle here is written out again so a change to the rule shows up as a failure).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStoreError } from '../errors.js';
import { makeContent, rawMessage, type StoreHarness } from './kit.js';
import type { Id, Mailbox, Store, Uid, User } from '../types.js';

type Part = 'text' | 'body';

/** The pre-index rule (src/imap/commands/search-eval.ts before the store answered TEXT/BODY). */
function oracle(searchText: string, part: Part, value: string): boolean {
  const i = searchText.indexOf('\n\n');
  const text = part === 'text' ? searchText : i < 0 ? '' : searchText.slice(i + 2);
  return text.toLowerCase().includes(value.toLowerCase());
}

/** Characters that fold differently in JavaScript, SQLite and PostgreSQL, or are special to LIKE and FTS5. */
const TRICKY = ['a', 'B', 'c', 'Σ', 'σ', 'ς', 'İ', 'i', 'ı', 'K', 'k', 'ſ', 's', 'ß', 'Ä', 'ä', 'É', 'é', 'Ω', 'ω', '😀', '"', '%', '_', '\\', '*', ' ', '\n', ':', "'"];

export function textSearchConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (text search): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let inbox: Mailbox;
    let boxes = 0;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      alice = await store.addUser('alice@example.test', 'hash-a', []);
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    /** Appends a message whose search text is `searchText` (the raw bytes only make the content unique). */
    async function put(mailboxId: Id, searchText: string, tag = searchText): Promise<Uid> {
      const content = await makeContent(store, [rawMessage(`t-${Buffer.from(tag).toString('hex').slice(0, 200)}`)], searchText);
      return (await store.appendMessage({ mailboxId, content })).row.uid;
    }

    const find = (part: Part, value: string, mailboxId = inbox.id) => store.searchText(mailboxId, part, value);

    it('finds a substring anywhere in a word, in any case, in TEXT; BODY only after the header block', async () => {
      const a = await put(inbox.id, 'Subject: Quarterly Report\n\nThe SUPERCALIFRAGILISTIC numbers');
      const b = await put(inbox.id, 'Subject: lunch\n\nnothing to report');
      assert.deepEqual(await find('text', 'califrag'), [a]);
      assert.deepEqual(await find('text', 'REPORT'), [a, b]);
      assert.deepEqual(await find('body', 'report'), [b], 'the subject is not body');
      assert.deepEqual(await find('body', 'numbers'), [a]);
      assert.deepEqual(await find('text', 'quarterly report'), [a], 'a phrase with a space');
      assert.deepEqual(await find('text', 'report numbers'), [], 'words apart are not a substring');
    });

    it('matches non-ASCII case-insensitively, including decoded header text', async () => {
      const a = await put(inbox.id, 'Subject: Grüße aus Köln\n\nΣΟΦΙΑ und STRASSE');
      const b = await put(inbox.id, 'Subject: x\n\nσοφια');
      assert.deepEqual(await find('text', 'GRÜSSE'), [], 'no ß → ss expansion: a substring, as before');
      assert.deepEqual(await find('text', 'grÜße'), [a]);
      assert.deepEqual(await find('text', 'KÖLN'), [a]);
      assert.deepEqual(await find('body', 'σοφια'), [a, b]);
      assert.deepEqual(await find('text', 'ΣΟΦΙΑ'), [a, b]);
    });

    it('answers terms shorter than three characters and the empty term', async () => {
      const a = await put(inbox.id, 'Subject: a\n\nxy z');
      const b = await put(inbox.id, 'Subject: b\n\nqq');
      assert.deepEqual(await find('text', 'XY'), [a]);
      assert.deepEqual(await find('body', 'q'), [b]);
      assert.deepEqual(await find('body', 'b'), [], 'b is only in a header');
      assert.deepEqual(await find('text', ''), [a, b]);
      assert.deepEqual(await find('body', ''), [a, b]);
      const c = await put(inbox.id, 'Subject: no body at all');
      assert.deepEqual(await find('body', ''), [a, b, c], 'the empty string is in every body, even an empty one');
    });

    it('takes quotes, wildcards and backslashes literally', async () => {
      const a = await put(inbox.id, 'Subject: s\n\nsay "hi" 100% of_the \\time * ok');
      await put(inbox.id, 'Subject: t\n\nsay hi 1000 ofXthe time ok');
      for (const v of ['"hi"', '100%', 'of_the', '\\time', '"', '%', '_', '\\', '* ok', '"x']) {
        assert.deepEqual(await find('text', v), v === '"x' ? [] : [a], v);
      }
    });

    it('answers per mailbox, follows copies and expunges, and drops the index entry with the content', async () => {
      const other = await store.createMailbox(alice.id, 'Other');
      const a = await put(inbox.id, 'Subject: s\n\nneedle in a haystack');
      assert.deepEqual(await find('text', 'needle', other.id), []);
      const { mapping } = await store.copyMessages(inbox.id, [a], other.id);
      assert.deepEqual(await find('text', 'needle', other.id), [mapping[0].to]);
      await store.expunge(inbox.id, [a]);
      assert.deepEqual(await find('text', 'needle'), []);
      assert.deepEqual(await find('text', 'needle', other.id), [mapping[0].to], 'the copy keeps the content');
      await store.expunge(other.id, [mapping[0].to]);
      // The content is gone; storing the same bytes again indexes it again (no stale or duplicate entry).
      const again = await put(inbox.id, 'Subject: s\n\nneedle in a haystack');
      assert.deepEqual(await find('text', 'needle'), [again]);
    });

    it('answers candidates from the index: a superset of TEXT that leaves out what cannot match', async () => {
      const a = await put(inbox.id, 'Subject: Quarterly Report\n\nnumbers');
      const b = await put(inbox.id, 'Subject: lunch\n\nnothing to see');
      const c = await put(inbox.id, 'Subject: report\n\nreport');
      const got = await store.searchText(inbox.id, 'candidates', 'REPORT');
      assert.ok(got.includes(a) && got.includes(c), 'every exact hit');
      assert.ok(!got.includes(b), 'a text with none of the trigrams is left out');
      assert.ok((await store.searchText(inbox.id, 'candidates', 'nc')).includes(b), 'a short term (some indexes cannot narrow it) still finds its hit');
      await assert.rejects(store.searchText(987654, 'candidates', 'report'), (e) => isStoreError(e) && e.code === 'notfound');
    });

    it('finds a term across words, whatever its words repeat, and a term of short words', async () => {
      const a = await put(inbox.id, 'Subject: minutes\n\nmeeting thanks meeting\tthanks\r\nthanks meeting');
      const b = await put(inbox.id, 'Subject: other\n\nthanks meeting, a b c');
      assert.deepEqual(await find('text', 'ting tha'), [a]);
      assert.deepEqual(await find('text', 'MEETING\tTHANKS'), [a]);
      assert.deepEqual(await find('text', 'ks\r\nth'), [a]);
      assert.deepEqual(await find('text', 'thanks meeting'), [a, b]);
      assert.deepEqual(await find('body', 'a b c'), [b]);
      assert.deepEqual(await find('text', ' b '), [b]);
    });

    it('refuses an unknown mailbox and a bad part', async () => {
      await assert.rejects(find('text', 'x', 987654), (e) => isStoreError(e) && e.code === 'notfound');
      await assert.rejects(store.searchText(inbox.id, 'header' as Part, 'x'), (e) => isStoreError(e) && e.code === 'invalid');
    });

    it('equals the scan for random texts and terms (property)', async () => {
      const char = fc.constantFrom(...TRICKY);
      const text = fc.array(char, { maxLength: 40 }).map((cs) => cs.join(''));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 6 }),
          fc.array(fc.tuple(fc.constantFrom<Part>('text', 'body'), fc.array(char, { maxLength: 5 }).map((cs) => cs.join('')), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 6 }),
          async (docs, queries) => {
            const box = await store.createMailbox(alice.id, `p${boxes++}`);
            const stored: { uid: Uid; text: string }[] = [];
            for (const [head, body] of docs) {
              const t = `H: ${head}\n\n${body}`;
              stored.push({ uid: await put(box.id, t, `${box.id}/${stored.length}/${t}`), text: t });
            }
            for (const [part, random, pick, fromDoc] of queries) {
              // Half the terms are cut from a stored text (and re-cased) so that most of them hit.
              const src = [...stored[pick % stored.length].text]; // code points: IMAP strings never hold a lone surrogate
              const start = pick % (src.length + 1);
              const value = fromDoc ? src.slice(start, start + 1 + (pick % 6)).join('').toUpperCase() : random;
              const want = stored.filter((s) => oracle(s.text, part, value)).map((s) => s.uid);
              assert.deepEqual(await find(part, value, box.id), want, `${part} ${JSON.stringify(value)}`);
              // 'candidates' may hold more, never less, than TEXT's exact answer, in ascending order
              const candidates = await store.searchText(box.id, 'candidates', value);
              assert.deepEqual([...candidates].sort((x, y) => x - y), candidates, 'ascending');
              const exact = stored.filter((s) => oracle(s.text, 'text', value)).map((s) => s.uid);
              for (const uid of exact) assert.ok(candidates.includes(uid), `candidates of ${JSON.stringify(value)} miss UID ${uid}`);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
