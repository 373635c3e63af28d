import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { earlyPassword, startEarlyHash, takeEarlyHash } from './early-hash.js';
import { verifyPassword } from '../auth/password.js';

const argv = (...args: string[]) => ['node', 'main.js', ...args];

test('which command lines get their password hashed early (table)', () => {
  const rows: [string[], string | undefined][] = [
    [['user', 'add', 'a@x.test', '--password', 'pw'], 'pw'],
    [['user', 'add', 'a@x.test', '--password=pw'], 'pw'],
    [['user', 'add', '--password', 'pw', 'a@x.test'], 'pw'],
    [['--data', '/d', 'user', 'add', 'a@x.test', '--password', 'pw'], 'pw'],
    [['--config', 'user', 'user', 'add', 'a@x.test', '--password', 'pw'], 'pw'], // "user" is --config's value
    [['user', 'passwd', 'a@x.test', '--password', 'p w='], 'p w='],
    [['user', 'add', 'a@x.test', '--password', 'add'], 'add'],
    [['user', 'add', 'a@x.test', '--password='], undefined], // empty: refused by the command
    [['user', 'add', 'a@x.test', '--password'], undefined],
    [['user', 'add', 'a@x.test'], undefined],
    [['user', 'add', '--from-file', 'users.csv'], undefined],
    [['user', 'del', 'a@x.test', '--password', 'pw'], undefined],
    [['device', 'add', 'a@x.test', '--password', 'pw'], undefined],
    [['--password', 'user', 'add', 'a@x.test'], undefined], // "user" is the password: no command
    [['help', 'user', 'add', '--password', 'pw'], undefined],
    [['--', 'user', 'add', 'a@x.test', '--password', 'pw'], undefined],
  ];
  for (const [args, want] of rows) assert.equal(earlyPassword(argv(...args)), want, args.join(' '));
});

test('whatever argv is, the password found is one of its words (property)', () => {
  const word = fc.oneof(fc.constantFrom('user', 'add', 'passwd', '--password', '--data', '--config', '--', '-x'), fc.string({ maxLength: 6 }));
  fc.assert(
    fc.property(fc.array(word, { maxLength: 8 }), (args) => {
      const found = earlyPassword(argv(...args));
      if (found !== undefined) assert.ok(args.includes(found) || args.includes(`--password=${found}`));
    }),
  );
});

test('a started hash is taken once, by its own password only', async () => {
  startEarlyHash(argv('user', 'add', 'a@x.test', '--password', 'early-pw'));
  assert.equal(takeEarlyHash('other-pw'), undefined);
  const hashing = takeEarlyHash('early-pw');
  assert.ok(hashing);
  assert.equal(takeEarlyHash('early-pw'), undefined, 'taken once');
  const { hash, scramKeys } = await hashing;
  assert.equal(await verifyPassword('early-pw', hash), true);
  assert.match(scramKeys, /^SHA-1 i=4096 /m);
});
