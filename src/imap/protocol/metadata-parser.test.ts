import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { entryNameProblem, parseGetMetadata, parseListMetadata, parseSetMetadata, type GetMetadataCommand } from './metadata-parser.js';
import { ImapParseError } from './errors.js';
import { argsOf, badText, onlyParseErrors } from './test-support.js';

const gets: [string, GetMetadataCommand][] = [
  ['INBOX /private/comment', { mailbox: 'INBOX', maxSize: null, depth: 0, entries: ['/private/comment'] }],
  ['"" (/shared/comment /Private/Comment)', { mailbox: '', maxSize: null, depth: 0, entries: ['/shared/comment', '/Private/Comment'] }],
  ['(MAXSIZE 1024) Work /shared', { mailbox: 'Work', maxSize: 1024, depth: 0, entries: ['/shared'] }],
  ['(depth INFINITY maxsize 0) Work "/shared/a b"', { mailbox: 'Work', maxSize: 0, depth: 'infinity', entries: ['/shared/a b'] }],
  ['(DEPTH 1) inbox (/private)', { mailbox: 'INBOX', maxSize: null, depth: 1, entries: ['/private'] }],
];

test('parseGetMetadata reads options, mailbox and entries', () => {
  for (const [wire, want] of gets) assert.deepEqual(parseGetMetadata(argsOf(wire)), want, wire);
});

test('parseGetMetadata refuses malformed commands naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['INBOX', /entry name|Expected|expected/i],
    ['(DEPTH 2) INBOX /shared', /DEPTH must be 0, 1 or infinity/],
    ['(DEPTH 1 DEPTH 1) INBOX /shared', /repeated GETMETADATA option DEPTH/],
    ['(MAXSIZE) INBOX /shared', /./],
    ['() INBOX /shared', /Empty list|./],
    ['INBOX /other/x', /must start with \/private\/ or \/shared\//],
    ['INBOX ()', /./],
    ['INBOX /shared/x extra', /./],
  ];
  for (const [wire, re] of bad) assert.match(badText(() => parseGetMetadata(argsOf(wire))), re, wire);
});

test('parseSetMetadata: quoted, literal, literal8 and NIL values; a later value for the same entry wins', () => {
  const got = parseSetMetadata(argsOf('Work (/shared/a "x" /private/b {2+}\r\n\r\n /private/c ~{2+}\r\n\x00z /shared/d NIL /SHARED/A "y")'), 100);
  assert.equal(got.mailbox, 'Work');
  assert.deepEqual(got.items.map((i) => [i.name, i.value === null ? null : [...i.value]]), [
    ['/private/b', [13, 10]], ['/private/c', [0, 0x7a]], ['/shared/d', null], ['/SHARED/A', [0x79]],
  ]);
});

test('parseSetMetadata: a value over the limit is NO [METADATA MAXSIZE n]; bad names and values are BAD', () => {
  for (const wire of ['INBOX (/shared/a "12345")', 'INBOX (/shared/a {5+}\r\n12345)']) {
    try {
      parseSetMetadata(argsOf(wire), 4);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ImapParseError);
      assert.equal(e.response, 'NO');
      assert.equal(e.code, 'METADATA MAXSIZE 4');
    }
  }
  assert.equal(parseSetMetadata(argsOf('INBOX (/shared/a "1234")'), 4).items.length, 1);
  for (const wire of ['INBOX (/shared "x")', 'INBOX (/shared/a)', 'INBOX (/shared/a FOO)', 'INBOX ()', 'INBOX /shared/a "x"', 'INBOX (/shared/a "x" /shared/b)']) {
    assert.equal(badText(() => parseSetMetadata(argsOf(wire), 100)).length > 0, true, wire);
  }
});

test('parseListMetadata: entries and MAXSIZE in any order', () => {
  assert.deepEqual(parseListMetadata(argsOf('(/shared/comment "/private/comment")')), { entries: ['/shared/comment', '/private/comment'], maxSize: null });
  assert.deepEqual(parseListMetadata(argsOf('(MAXSIZE 10 /shared/comment)')), { entries: ['/shared/comment'], maxSize: 10 });
  assert.deepEqual(parseListMetadata(argsOf('(/shared/comment maxsize 0)')), { entries: ['/shared/comment'], maxSize: 0 });
  for (const wire of ['()', '(MAXSIZE 10)', '(DEPTH 1 /shared/x)', '(/shared)', '(MAXSIZE 1 MAXSIZE 2 /shared/x)']) {
    assert.ok(badText(() => parseListMetadata(argsOf(wire))).length > 0, wire);
  }
});

test('entryNameProblem follows RFC 5464 3.2', () => {
  const rows: [string, boolean, boolean][] = [
    // name, valid to set, valid as a GETMETADATA root
    ['/private/comment', true, true],
    ['/shared/vendor/example.com/a-b_c', true, true],
    ['/shared/with space', true, true],
    ['/Private', false, true],
    ['/shared', false, true],
    ['/shared/', false, false],
    ['/shared//x', false, false],
    ['/shared/x/', false, false],
    ['shared/x', false, false],
    ['/sharedx', false, false],
    ['/shared/*', false, false],
    ['/shared/%', false, false],
    ['/shared/\u00e9', false, false],
    ['/shared/a\tb', false, false],
    ['', false, false],
    [`/shared/${'x'.repeat(1100)}`, false, false],
  ];
  for (const [name, set, root] of rows) {
    assert.equal(entryNameProblem(name) === null, set, `set ${name}`);
    assert.equal(entryNameProblem(name, true) === null, root, `root ${name}`);
  }
});

test('METADATA parsers: any input either parses or throws ImapParseError (property)', () => {
  const words = ['(', ')', ' ', '"', 'INBOX', '""', '/shared', '/private/x', '/shared/a/b', 'NIL', 'MAXSIZE', 'DEPTH', '1', 'infinity', '{1+}\r\na', '~{1+}\r\n\x00', '*', '%', '\\'];
  const parsers = [(r: ReturnType<typeof argsOf>) => parseGetMetadata(r), (r: ReturnType<typeof argsOf>) => parseSetMetadata(r, 10), (r: ReturnType<typeof argsOf>) => parseListMetadata(r)];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { maxLength: 20 }), fc.constantFrom(0, 1, 2), (parts, which) => {
      let r;
      try {
        r = argsOf(parts.join(''));
      } catch {
        return;
      }
      onlyParseErrors(() => parsers[which](r));
    }),
    { numRuns: 2000 },
  );
});
