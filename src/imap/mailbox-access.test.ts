import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSharedNamespaceName, parentName, permittedFlags, rightForFlag, splitSharedName } from './mailbox-access.js';

describe('shared namespace names and rights (mailbox-access.ts)', () => {
  it('splits Other Users/ and Shared/ names into owner and mailbox', () => {
    const table: [string, ReturnType<typeof splitSharedName>][] = [
      ['Other Users/alice@example.test/Projects', { prefix: 'Other Users', owner: 'alice@example.test', rest: 'Projects' }],
      ['Other Users/alice@example.test/A/B', { prefix: 'Other Users', owner: 'alice@example.test', rest: 'A/B' }],
      ['Shared/alice@example.test/INBOX', { prefix: 'Shared', owner: 'alice@example.test', rest: 'INBOX' }],
      ['Other Users/alice@example.test', { prefix: 'Other Users', owner: 'alice@example.test', rest: '' }],
      ['Other Users', null],
      ['other users/alice@example.test/X', null],
      ['Projects/Shared/x', null],
      ['INBOX', null],
    ];
    for (const [name, want] of table) assert.deepEqual(splitSharedName(name), want, name);
    assert.equal(isSharedNamespaceName('Shared'), true);
    assert.equal(isSharedNamespaceName('Sharedx'), false);
  });

  it('keeps only the flags a login may set', () => {
    assert.equal(rightForFlag('\\SEEN'), 's');
    assert.equal(rightForFlag('\\Deleted'), 't');
    assert.equal(rightForFlag('$Work'), 'w');
    assert.deepEqual(permittedFlags('lrs', ['\\Seen', '\\Flagged', '\\Deleted', '$x']), ['\\Seen']);
    assert.deepEqual(permittedFlags('lrwt', ['\\Seen', '\\Flagged', '\\Deleted']), ['\\Flagged', '\\Deleted']);
    assert.deepEqual(permittedFlags('lrswipkxtean', ['\\Seen', '$x']), ['\\Seen', '$x']);
    assert.equal(parentName('a/b/c'), 'a/b');
    assert.equal(parentName('a'), '');
  });
});
