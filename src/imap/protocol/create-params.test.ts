import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCreateParams } from './create-params.js';
import { argsOf, badText, onlyParseErrors } from './test-support.js';

/** The parameters after a mailbox name, read as CREATE reads them. */
function params(wire: string) {
  const r = argsOf(`Box${wire}`);
  r.mailbox();
  const p = parseCreateParams(r);
  r.end();
  return p;
}

test('parseCreateParams reads USE lists', () => {
  const rows: [string, string[]][] = [
    ['', []],
    [' (USE (\\Sent))', ['\\Sent']],
    [' (use (\\drafts \\Trash))', ['\\drafts', '\\Trash']],
    [' (USE ())', []],
  ];
  for (const [wire, use] of rows) assert.deepEqual(params(wire), { use }, wire);
});

test('parseCreateParams refuses unknown parameters and malformed lists', () => {
  for (const wire of [' ()', ' (FOO)', ' (USE)', ' (USE \\Sent)', ' (USE (Sent))', ' (USE (\\Sent) USE (\\Junk))', ' (USE (\\Sent)) x', ' USE (\\Sent)']) {
    assert.ok(badText(() => params(wire)).length > 0, wire);
  }
});

test('parseCreateParams: any input either parses or throws ImapParseError (property)', () => {
  const words = ['(', ')', ' ', 'USE', '\\', 'Sent', '\\Junk', 'FOO', '"x"', '{1+}\r\na'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { maxLength: 14 }), (parts) => {
      let r;
      try {
        r = argsOf(`Box ${parts.join('')}`);
      } catch {
        return;
      }
      onlyParseErrors(() => {
        r.mailbox();
        parseCreateParams(r);
        r.end();
      });
    }),
    { numRuns: 1000 },
  );
});
