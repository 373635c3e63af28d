import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csvFields, parseUsersFile } from './users-file.js';

const fieldCases: [string, string[] | null][] = [
  ['a@x.test', ['a@x.test']],
  ['a@x.test,pw,2G', ['a@x.test', 'pw', '2G']],
  [' a@x.test , pw ', ['a@x.test', 'pw']],
  ['a@x.test,"p,w ""q""",1M', ['a@x.test', 'p,w "q"', '1M']],
  ['a@x.test,,500M', ['a@x.test', '', '500M']],
  ['a@x.test,', ['a@x.test', '']],
  ['a@x.test,"open', null],
  ['a@x.test,"x"y', null],
];
for (const [line, want] of fieldCases) test(`csvFields ${JSON.stringify(line)}`, () => assert.deepEqual(csvFields(line), want));

test('parseUsersFile: header, comments, blank lines, generated passwords, quotas', () => {
  const r = parseUsersFile('\uFEFFaddress,password,quota\r\n# staff\r\nAlice@Example.TEST,s3cret,2G\r\n\r\nbob@example.test\r\ncarol@example.test,,unlimited\r\n');
  assert.deepEqual(r, {
    ok: true,
    users: [
      { line: 3, address: 'Alice@example.test', password: 's3cret', quota: 2 * 1024 ** 3 },
      { line: 5, address: 'bob@example.test', password: null },
      { line: 6, address: 'carol@example.test', password: null, quota: null },
    ],
  });
});

test('parseUsersFile: every bad line reported with its number, nothing accepted', () => {
  const r = parseUsersFile('ok@example.test,pw\nnot-an-address,pw\nok@example.test,again\nq@example.test,pw,lots\nx@example.test,a,b,c\ny@example.test,"pw\n');
  assert.equal(r.ok, false);
  assert.deepEqual(
    !r.ok && r.errors.map((e) => e.split(':')[0]),
    ['line 2', 'line 3', 'line 4', 'line 5', 'line 6'],
  );
});

test('csvFields: a quoted field round-trips any text', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
      assert.deepEqual(csvFields(`${quote(a)},${quote(b)}`), [a, b]);
    }),
  );
});
