// addressSearchText: what SEARCH FROM/TO/CC/BCC compare with (RFC 9051 6.4.4), from parsed address lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressList } from './address.js';
import { addressSearchText } from './search-text.js';

test('table: header value → address search text', () => {
  const rows: [string, string][] = [
    ['<user-from (comment)@ (comment) domain.org>', '<user-from@domain.org>'],
    ['"Bob =?utf-8?q?M=C3=BCller?=" <bob@example.test>', 'Bob Müller <bob@example.test>'],
    ['=?iso-8859-1?q?J=F6rg?= <j@x.example>, plain@y.example', 'Jörg <j@x.example>\n<plain@y.example>'],
    ['friends: a@b.example, c@d.example;', 'friends\n<a@b.example>\n<c@d.example>'],
    ['Gr\u00c3\u00bc\u00c3\u009f <g@z.example>', 'Grüß <g@z.example>'], // raw UTF-8 bytes as the index keeps them
  ];
  for (const [value, want] of rows) assert.equal(addressSearchText(parseAddressList(value)), want, value);
  assert.equal(addressSearchText(null), '');
});
