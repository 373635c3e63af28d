import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import fc from 'fast-check';
import { targetName } from './imap-import.js';
import { ImportJournal } from './import-journal.js';
import { LineReader } from './pop3-client.js';
import { pop3Form } from './pop3-uidl-import.js';
import { parseServerUrl } from '../../cli/import-imap.js';

test('targetName: the old server delimiter becomes /', () => {
  const table: [string, string | null, string][] = [
    ['INBOX', '/', 'INBOX'],
    ['inbox', '.', 'INBOX'],
    ['Work.Projects', '.', 'Work/Projects'],
    ['Work/Projects', '/', 'Work/Projects'],
    ['Sent Items', null, 'Sent Items'],
  ];
  for (const [p, delimiter, want] of table) assert.equal(targetName({ path: p, delimiter: delimiter as string }), want, p);
});

test('parseServerUrl: schemes, default ports, TLS, users; bad input is a clear error', () => {
  const ok: [string, string[], string | undefined, object][] = [
    ['imaps://alice@old.example', ['imaps:', 'imap:'], undefined, { host: 'old.example', port: 993, tls: true, user: 'alice' }],
    ['imap://alice%40old.example@old.example:1143', ['imaps:', 'imap:'], undefined, { host: 'old.example', port: 1143, tls: false, user: 'alice@old.example' }],
    ['pop3s://pop.old.example', ['pop3s:', 'pop3:'], 'bob', { host: 'pop.old.example', port: 995, tls: true, user: 'bob' }],
    ['pop3://carol@[::1]:1110', ['pop3s:', 'pop3:'], 'bob', { host: '::1', port: 1110, tls: false, user: 'carol' }],
  ];
  for (const [url, schemes, user, want] of ok) assert.deepEqual(parseServerUrl(url, schemes, user), want, url);
  const bad: [string, RegExp][] = [
    ['old.example', /not a URL/],
    ['https://a@old.example', /expected imaps: or imap:/],
    ['imaps://a:secret@old.example', /--password-file/],
    ['imaps://old.example', /no user/],
    ['imaps://a@old.example/INBOX', /no path/],
  ];
  for (const [url, re] of bad) assert.throws(() => parseServerUrl(url, ['imaps:', 'imap:']), re, url);
});

test('pop3Form: CRLF line ends and a final CRLF, as a POP3 server shows the message', () => {
  const table: [string, string][] = [
    ['a\r\nb\r\n', 'a\r\nb\r\n'],
    ['a\nb\n', 'a\r\nb\r\n'],
    ['a\r\nb', 'a\r\nb\r\n'],
    ['', '\r\n'],
  ];
  for (const [raw, want] of table) assert.equal(pop3Form(Buffer.from(raw)).toString(), want, JSON.stringify(raw));
});

test('journal: copied UIDs per UIDVALIDITY survive a reopen; a P without C stays pending; a torn line is ignored', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'journal-')), 'x.journal');
  const j = ImportJournal.open(file);
  j.begin({ box: 'Work\tx/%', uidValidity: 7, oldUid: 1, sha256: 'aa' });
  j.done('Work\tx/%', 7, 1, 10);
  j.begin({ box: 'Work\tx/%', uidValidity: 7, oldUid: 2, sha256: 'bb' });
  j.close();
  fs.appendFileSync(file, 'C\tWork%09x%2F%25\t7\t3'); // killed mid-line
  const again = ImportJournal.open(file);
  assert.deepEqual([...again.copiedFrom('Work\tx/%', 7)], [[1, 10]]);
  assert.deepEqual(again.copiedFrom('Work\tx/%', 8).size, 0);
  assert.equal(again.hasOtherValidity('Work\tx/%', 8), true);
  assert.equal(again.hasOtherValidity('Work\tx/%', 7), false);
  assert.deepEqual(again.pendingIn('Work\tx/%', 7), [{ box: 'Work\tx/%', uidValidity: 7, oldUid: 2, sha256: 'bb' }]);
  again.close();
});

/** A socket stand-in that hands the reader the given chunks. */
function feed(chunks: Buffer[]): LineReader {
  const socket = new EventEmitter() as unknown as net.Socket;
  const reader = new LineReader(socket);
  setImmediate(() => {
    for (const c of chunks) socket.emit('data', c);
  });
  return reader;
}

test('POP3 multi-line reply: dot-stuffed lines come back as sent, however the bytes are split (property)', async () => {
  const line = fc.string({ unit: fc.constantFrom('a', '.', ' ', 'x', 'é'), maxLength: 8 });
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(40), { maxLength: 6 }), async (lines, cuts) => {
      const body = lines.map((l) => `${l}\r\n`).join('');
      const wire = Buffer.from(`+OK\r\n${lines.map((l) => (l.startsWith('.') ? `.${l}` : l) + '\r\n').join('')}.\r\n`);
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points, wire.length].slice(1).map((end, i, all) => wire.subarray(i === 0 ? 0 : all[i - 1], end));
      const r = feed(chunks);
      assert.equal((await r.line()).toString(), '+OK');
      assert.equal((await r.block()).toString(), body);
    }),
  );
});
