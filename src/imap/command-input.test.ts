// CommandReader (src/imap/protocol/command-reader.ts) over the real connection layer: the
// framing table, every row byte by byte and at every two-chunk split, literal streaming
// with awaited sinks, and fuzzing. The reader is pure; these tests give it a Connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConnectionClosed } from '../net/connection.js';
import { pair } from '../net/connection-pairs.test-helper.js';
import { CommandReader, type CommandReaderHooks, type CommandReaderOptions, type LiteralInfo, type ReaderEvent } from './protocol/command-reader.js';
import { ImapParseError } from './protocol/errors.js';

/** Events as plain data, comparable across chunkings. */
function plain(e: ReaderEvent): unknown {
  if (e.type === 'error') {
    assert.ok(e.error instanceof ImapParseError);
    return ['error', e.error.text, e.error.tag ?? null, e.error.code ?? null];
  }
  const c = e.command;
  return [
    'command',
    c.tag ?? null,
    c.segments.map((s) => s.toString('latin1')),
    c.literals.map((l) => [l.data?.toString('latin1') ?? null, l.binary, l.nonSync, l.containsNul]),
  ];
}

/**
 * Writes `chunks` from the client, each one write (one 'data' event on the server),
 * reads events until the input is used up, and returns them with the continuation
 * requests in between, as plain data.
 */
async function run(opts: CommandReaderOptions, chunks: Buffer[], hooks: Partial<CommandReaderHooks> = {}): Promise<unknown[]> {
  const { conn, client } = await pair('duplex');
  const out: unknown[] = [];
  const reader = new CommandReader(conn, { continuation: (l) => void out.push(cont(l.tag ?? null, l.size, l.binary)), ...hooks }, opts);
  for (const c of chunks) client.write(c);
  client.end();
  try {
    for (;;) out.push(plain(await reader.next()));
  } catch (err) {
    if (!(err instanceof ConnectionClosed)) throw err;
  }
  conn.destroy();
  return out;
}

const cmd = (tag: string | null, segments: string[], literals: [string | null, boolean, boolean, boolean][] = []): unknown => ['command', tag, segments, literals];
const cont = (tag: string | null, size: number, binary = false): unknown => ['continue', tag, size, binary];
const err = (text: string, tag: string | null = null, code: string | null = null): unknown => ['error', text, tag, code];

type Row = [name: string, input: string, opts: CommandReaderOptions, expected: unknown[]];
const rows: Row[] = [
  ['one command', 'a1 NOOP\r\n', {}, [cmd('a1', ['a1 NOOP'])]],
  ['bare LF ends a line', 'a1 NOOP\n', {}, [cmd('a1', ['a1 NOOP'])]],
  ['pipelined commands', 'a1 NOOP\r\na2 CHECK\r\n', {}, [cmd('a1', ['a1 NOOP']), cmd('a2', ['a2 CHECK'])]],
  ['blank lines are ignored', '\r\n\r\na1 NOOP\r\n', {}, [cmd('a1', ['a1 NOOP'])]],
  ['incomplete line waits', 'a1 NOO', {}, []],
  ['no valid tag', '+x NOOP\r\n', {}, [cmd(null, ['+x NOOP'])]],
  [
    'synchronizing literals',
    'a1 LOGIN {3}\r\nfoo {3}\r\nbar\r\n',
    {},
    [cont('a1', 3), cont('a1', 3), cmd('a1', ['a1 LOGIN ', ' ', ''], [['foo', false, false, false], ['bar', false, false, false]])],
  ],
  ['LITERAL+', 'a1 LOGIN {3+}\r\nfoo "x"\r\n', {}, [cmd('a1', ['a1 LOGIN ', ' "x"'], [['foo', false, true, false]])]],
  ['literal8 with NUL', 'a1 APPEND INBOX ~{4+}\r\na\0bc\r\n', {}, [cmd('a1', ['a1 APPEND INBOX ', ''], [['a\0bc', true, true, true]])]],
  ['literal8 synchronizing', 'a1 APPEND INBOX ~{2}\r\nab\r\n', {}, [cont('a1', 2, true), cmd('a1', ['a1 APPEND INBOX ', ''], [['ab', true, false, false]])]],
  ['NUL in a plain literal is flagged', 'a1 X {2+}\r\n\0b\r\n', {}, [cmd('a1', ['a1 X ', ''], [['\0b', false, true, true]])]],
  ['empty literal', 'a1 LOGIN {0}\r\n {0+}\r\n\r\n', {}, [cont('a1', 0), cmd('a1', ['a1 LOGIN ', ' ', ''], [['', false, false, false], ['', false, true, false]])]],
  ['literal containing CRLF and braces', 'a1 X {9+}\r\n{1}\r\nb\r\nc\r\n', {}, [cmd('a1', ['a1 X ', ''], [['{1}\r\nb\r\nc', false, true, false]])]],
  [
    'line too long, then resync',
    `a1 ${'x'.repeat(30)}\r\na2 NOOP\r\n`,
    { maxLineLength: 20 },
    [err('Command line too long (limit 20 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'line too long still skips its non-sync literal',
    `a1 X ${'y'.repeat(30)} {11+}\r\na9 LOGOUT\r\n\r\na2 NOOP\r\n`,
    { maxLineLength: 20 },
    [err('Command line too long (limit 20 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'too long over several lines',
    'a1 X {3+}\r\nabc 12345678901234567890\r\na2 NOOP\r\n',
    { maxLineLength: 20 },
    [err('Command line too long (limit 20 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'synchronizing literal over APPENDLIMIT: no continuation, next line is a command',
    'a1 APPEND INBOX {20}\r\na2 NOOP\r\n',
    { maxLiteralSize: 10 },
    [err('Literal too large (limit 10 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'non-sync literal over APPENDLIMIT is skipped',
    'a1 APPEND INBOX {20+}\r\na9 LOGOUT\r\nxxxxxxxxx\r\na2 NOOP\r\n',
    { maxLiteralSize: 10 },
    [err('Literal too large (limit 10 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'LITERAL- refuses {n+} over 4096 and skips it',
    `a1 APPEND INBOX {4097+}\r\n${'z'.repeat(4097)}\r\na2 NOOP\r\n`,
    { nonSyncLiterals: 'minus' },
    [err('Non-synchronizing literal larger than 4096 bytes', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])],
  ],
  ['LITERAL- accepts {4096+}', `a1 X {4096+}\r\n${'z'.repeat(4096)}\r\n`, { nonSyncLiterals: 'minus' }, [cmd('a1', ['a1 X ', ''], [['z'.repeat(4096), false, true, false]])]],
  [
    'no LITERAL+ advertised',
    'a1 LOGIN {3+}\r\nfoo {3+}\r\nbar\r\na2 NOOP\r\n',
    { nonSyncLiterals: 'none' },
    [err('Non-synchronizing literals are not supported', 'a1'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'too many literals',
    'a1 X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\na2 NOOP\r\n',
    { maxLiterals: 2 },
    [err('Too many literals in one command (limit 2)', 'a1'), cmd('a2', ['a2 NOOP'])],
  ],
  [
    'error then synchronizing literal ends the command',
    'a1 X {1+}\r\na {1+}\r\nb {3}\r\na2 NOOP\r\n',
    { maxLiterals: 1 },
    [err('Too many literals in one command (limit 1)', 'a1'), cmd('a2', ['a2 NOOP'])],
  ],
  ['huge literal size', 'a1 X {99999999999999999999}\r\na2 NOOP\r\n', {}, [err('Literal too large (limit 67108864 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])]],
  ['tag unknown on an over-long line', `${'q'.repeat(40)}\r\na2 NOOP\r\n`, { maxLineLength: 20 }, [err('Command line too long (limit 20 bytes)', null, 'TOOBIG'), cmd('a2', ['a2 NOOP'])]],
];

test('command reader table', async () => {
  for (const [name, input, opts, expected] of rows) {
    assert.deepEqual(await run(opts, [Buffer.from(input, 'latin1')]), expected, name);
  }
});

test('every row gives identical events byte by byte and at every two-chunk split', async () => {
  for (const [name, input, opts] of rows) {
    const buf = Buffer.from(input, 'latin1');
    const whole = await run(opts, [buf]);
    const bytes = [...buf].map((b) => Buffer.from([b]));
    assert.deepEqual(await run(opts, bytes), whole, `${name}: byte by byte`);
    const step = buf.length > 600 ? 37 : 1; // long rows: every 37th split point keeps the test quick
    for (let i = 1; i < buf.length; i += step) {
      assert.deepEqual(await run(opts, [buf.subarray(0, i), buf.subarray(i)]), whole, `${name}: split at ${i}`);
    }
  }
});

test('checkLiteral refuses a literal: no continuation for a synchronizing one, a non-synchronizing one is skipped', async () => {
  const refuse = { checkLiteral: (l: { size: number }) => (l.size > 4 ? new ImapParseError('too big here', { code: 'TOOBIG' }) : undefined) };
  assert.deepEqual(await run({}, [Buffer.from('a1 LOGIN {10}\r\na2 NOOP\r\n')], refuse), [err('too big here', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])]);
  assert.deepEqual(await run({}, [Buffer.from('a1 LOGIN {11+}\r\na9 LOGOUT\r\n\r\na2 NOOP\r\n')], refuse), [err('too big here', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])]);
  assert.deepEqual(await run({}, [Buffer.from('a1 LOGIN {4}\r\nabcd\r\n')], refuse), [cont('a1', 4), cmd('a1', ['a1 LOGIN ', ''], [['abcd', false, false, false]])]);
});

test('commandLimit bounds a whole command, text and literals together (IMAP before login)', async () => {
  const limit = { commandLimit: () => 60 };
  const tooLarge = (tag: string | null) => err('Command too large (limit 60 bytes, literals included)', tag, 'TOOBIG');
  const table: [input: string, expected: unknown[]][] = [
    ['a1 LOGIN {10+}\r\n0123456789 {10+}\r\n0123456789\r\na2 NOOP\r\n', [cmd('a1', ['a1 LOGIN ', ' ', ''], [['0123456789', false, true, false], ['0123456789', false, true, false]]), cmd('a2', ['a2 NOOP'])]],
    // many small literals: each passes alone, their sum does not; the rest is skipped, not kept
    [`a1 LOGIN${' {8+}\r\nxxxxxxxx'.repeat(9)}\r\na2 NOOP\r\n`, [tooLarge('a1'), cmd('a2', ['a2 NOOP'])]],
    // a synchronizing one gets no continuation: the client's next line is a command
    ['a1 LOGIN {10}\r\na2 NOOP\r\n'.replace('{10}', '{50}'), [tooLarge('a1'), cmd('a2', ['a2 NOOP'])]],
    [`a1 LOGIN ${'x'.repeat(60)}\r\na2 NOOP\r\n`, [tooLarge('a1'), cmd('a2', ['a2 NOOP'])]],
    // text after a literal counts too
    [`a1 LOGIN {20+}\r\n${'y'.repeat(20)} ${'x'.repeat(30)}\r\na2 NOOP\r\n`, [tooLarge('a1'), cmd('a2', ['a2 NOOP'])]],
  ];
  for (const [input, expected] of table) assert.deepEqual(await run({}, [Buffer.from(input)], limit), expected, input.slice(0, 40));
  // without the hook, the same many literals are one command
  const many = await run({}, [Buffer.from(`a1 LOGIN${' {8+}\r\nxxxxxxxx'.repeat(9)}\r\n`)]);
  assert.equal(many.length, 1);
});

test('an over-long line ending in a literal marker still skips that literal', async () => {
  const long = `a1 APPEND INBOX ${'x'.repeat(5000)} {12+}\r\na9 LOGOUT\r\n\r\na2 NOOP\r\n`;
  const bytes = Buffer.from(long);
  const expected = [err('Command line too long (limit 1000 bytes)', 'a1', 'TOOBIG'), cmd('a2', ['a2 NOOP'])];
  assert.deepEqual(await run({ maxLineLength: 1000 }, [bytes]), expected);
  assert.deepEqual(await run({ maxLineLength: 1000 }, [bytes.subarray(0, 2500), bytes.subarray(2500, 5015), bytes.subarray(5015)]), expected);
});

test('a 50 MB APPEND literal streams to the sink; each write is awaited, end comes after the last one', async () => {
  const size = 50 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const { conn, client } = await pair('duplex', { highWater: 256 * 1024 });
  let written = 0;
  let inFlight = false;
  let ended = false;
  let maxBuffered = 0;
  let info: LiteralInfo | undefined;
  const reader = new CommandReader(
    conn,
    {
      continuation: () => assert.fail('no continuation for {n+}'),
      openSink: (i) => {
        info = i;
        return {
          async write(b: Buffer) {
            assert.equal(inFlight, false, 'one write at a time');
            assert.equal(ended, false);
            inFlight = true;
            maxBuffered = Math.max(maxBuffered, conn.buffered);
            await new Promise((r) => setImmediate(r)); // a slow disk
            written += b.length;
            inFlight = false;
          },
          end() {
            assert.equal(inFlight, false, 'end after the last write was accepted');
            assert.equal(written, size);
            ended = true;
          },
        };
      },
    },
    { maxLiteralSize: 100 * 1024 * 1024 },
  );
  const next = reader.next();
  const writing = (async () => {
    client.write(`a1 APPEND INBOX (\\Seen) {${size}+}\r\n`);
    for (let sent = 0; sent < size; sent += chunk.length) {
      if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
    }
    client.write('\r\n');
  })();
  const e = await next;
  await writing;
  assert.ok(e.type === 'command');
  assert.equal(ended, true);
  assert.equal(e.command.literals[0].data, null);
  assert.equal(e.command.literals[0].size, size);
  assert.ok(e.command.literals[0].sink);
  assert.deepEqual(info, { tag: 'a1', size, binary: false, nonSync: true, index: 0, prefix: 'a1 APPEND INBOX (\\Seen) ' });
  // The input is bounded while the sink is slow: the high-water mark plus one socket chunk.
  assert.ok(maxBuffered <= 256 * 1024 + chunk.length, `buffered ${maxBuffered}`);
  conn.destroy();
});

test('small literals are buffered even with a sink hook', async () => {
  const ev = await run({ streamThreshold: 10 }, [Buffer.from('a1 LOGIN {3+}\r\nfoo bar\r\n')], { openSink: () => assert.fail('not for small literals') });
  assert.deepEqual(ev, [cmd('a1', ['a1 LOGIN ', ' bar'], [['foo', false, true, false]])]);
});

const wireUnit = fc.constantFrom(...'a1 {}~+0359\r\n"x('.split(''));

test('fuzz: random input gives only typed events, the same for any chunking', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: wireUnit, maxLength: 80 }), fc.integer({ min: 1, max: 80 }), async (s, cut) => {
      const opts: CommandReaderOptions = { maxLineLength: 24, maxLiteralSize: 40, maxLiterals: 3, nonSyncLiterals: 'minus' };
      const buf = Buffer.from(s, 'latin1');
      const whole = await run(opts, [buf]);
      assert.deepEqual(await run(opts, [buf.subarray(0, cut), buf.subarray(cut)]), whole);
      assert.deepEqual(await run(opts, [...buf].map((b) => Buffer.from([b]))), whole);
    }),
    { numRuns: 200 },
  );
});

test('fuzz: random bytes give only typed events and end when the input ends', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      await run({ maxLineLength: 100 }, [Buffer.from(bytes)]);
    }),
    { numRuns: 300 },
  );
});

test('connection readLine keep: the head and tail of an over-long line, for every split, CR not in the tail', async () => {
  const line = `a1 ${'m'.repeat(300)} {12+}`;
  const wire = Buffer.from(`${line}\r\nnext\r\n`);
  for (let i = 1; i < wire.length; i++) {
    const { conn, client } = await pair('duplex');
    client.write(wire.subarray(0, i));
    client.write(wire.subarray(i));
    const r = await conn.readLine(100, { keep: 20 });
    assert.ok('tooLong' in r, `split ${i}`);
    assert.equal(r.head?.toString('latin1'), line.slice(0, 20), `head, split ${i}`);
    assert.equal(r.tail?.toString('latin1'), line.slice(-20), `tail, split ${i}`);
    const next = await conn.readLine(100);
    assert.ok('line' in next && next.line.toString() === 'next', `the next line, split ${i}`);
    conn.destroy();
  }
});
