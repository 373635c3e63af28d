// Property: a random conversation of commands, literals (readExactly) and dot-terminated
// bodies (readUntilTerminator), cut into random chunks (one byte at a time, the
// terminator alone, the terminator glued to data, anything), written with random async
// gaps to a server whose consumers are slow (random awaits). Every reply arrives, every
// byte is accounted for (the decoded content of each item is checked by hash and the
// final line must follow exactly), and nothing hangs: each run races a generous safety
// timeout that fails the property (a bound on hangs, not a speed assertion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { DataDecoder } from '../smtp/protocol/data-decoder.js';
import type { Connection } from './connection.js';
import { pair, received, writeChunks, type Transport } from './connection-pairs.test-helper.js';

type Item = { kind: 'line'; text: string } | { kind: 'literal'; bytes: Buffer } | { kind: 'data'; lines: string[] };

const SAFETY_MS = 20_000;
const textLine = fc.string({ unit: fc.constantFrom(...'abc .:<>@-0123456789'), maxLength: 60 });
const item: fc.Arbitrary<Item> = fc.oneof(
  textLine.map((text) => ({ kind: 'line' as const, text: `CMD ${text}` })),
  fc.uint8Array({ maxLength: 2000 }).map((a) => ({ kind: 'literal' as const, bytes: Buffer.from(a) })),
  // Lines of a message body; many start with a dot, some are a lone dot, to exercise dot-stuffing.
  fc.array(fc.oneof(textLine, textLine.map((t) => `.${t}`), fc.constant('.')), { maxLength: 40 }).map((lines) => ({ kind: 'data' as const, lines })),
);

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** The bytes the client sends for an item, and the offsets of its DATA terminator (if any) in them. */
function wire(it: Item): { bytes: Buffer; terminator?: number } {
  if (it.kind === 'line') return { bytes: Buffer.from(`${it.text}\r\n`) };
  if (it.kind === 'literal') return { bytes: Buffer.concat([Buffer.from(`LIT ${it.bytes.length}\r\n`), it.bytes]) };
  const stuffed = it.lines.map((l) => (l.startsWith('.') ? `.${l}` : l) + '\r\n').join('');
  const head = `DATA\r\n${stuffed}`;
  return { bytes: Buffer.from(`${head}.\r\n`), terminator: head.length };
}

/** What the server must report for an item. */
function expected(it: Item, i: number): string {
  if (it.kind === 'line') return `OK ${i} line ${sha(it.text)}`;
  if (it.kind === 'literal') return `OK ${i} literal ${it.bytes.length} ${sha(it.bytes)}`;
  const body = it.lines.map((l) => `${l}\r\n`).join('');
  return `OK ${i} data ${body.length} ${sha(body)}`;
}

/** The server side: reads the conversation through the connection layer with slow consumers. */
async function serve(conn: Connection, pause: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    const got = await conn.readLine(1000);
    assert.ok(!('tooLong' in got), 'no line is too long');
    const line = got.line.toString('latin1');
    if (line === 'END') return void (await conn.send(`BYE ${i}\r\n`));
    if (line.startsWith('LIT ')) {
      const parts: Buffer[] = [];
      await conn.readExactly(Number(line.slice(4)), async (p) => {
        parts.push(p);
        await pause();
      });
      const all = Buffer.concat(parts);
      await conn.send(`OK ${i} literal ${all.length} ${sha(all)}\r\n`);
    } else if (line === 'DATA') {
      const parts: Buffer[] = [];
      await conn.readUntilTerminator(new DataDecoder({ mode: 'dot', binary: false }), async (p) => {
        parts.push(Buffer.from(p));
        await pause();
      });
      const all = Buffer.concat(parts);
      await conn.send(`OK ${i} data ${all.length} ${sha(all)}\r\n`);
    } else {
      await pause();
      await conn.send(`OK ${i} line ${sha(line)}\r\n`);
    }
  }
}

/** Cut positions for the whole conversation. */
function cuts(total: number, style: 'random' | 'bytewise' | 'terminator-alone', random: number[], terminators: number[]): number[] {
  if (style === 'bytewise') return Array.from({ length: total }, (_, i) => i + 1);
  const set = new Set(random.map((r) => (r % Math.max(total, 1)) + 1));
  if (style === 'terminator-alone') for (const t of terminators) set.add(t).add(t + 3);
  set.add(total);
  return [...set].filter((c) => c > 0 && c <= total).sort((a, b) => a - b);
}

/** A pause from the cycled list: 0 → microtask, 1 → setImmediate, n → setTimeout(n - 2 ms). */
function pauses(list: number[]): () => Promise<void> {
  let k = 0;
  return async () => {
    const d = list.length ? list[k++ % list.length] : 0;
    if (d === 0) return Promise.resolve();
    if (d === 1) return new Promise((r) => setImmediate(r));
    return new Promise((r) => setTimeout(r, d - 2));
  };
}

async function runOnce(transport: Transport, items: Item[], style: 'random' | 'bytewise' | 'terminator-alone', random: number[], clientGaps: number[], serverPauses: number[]): Promise<void> {
  const { conn, client } = await pair(transport);
  const got = received(client);
  const pieces = items.map(wire);
  let offset = 0;
  const terminators: number[] = [];
  for (const p of pieces) {
    if (p.terminator !== undefined) terminators.push(offset + p.terminator);
    offset += p.bytes.length;
  }
  const all = Buffer.concat([...pieces.map((p) => p.bytes), Buffer.from('END\r\n')]);
  const positions = cuts(all.length, style, random, terminators);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of positions) {
    chunks.push(all.subarray(from, c));
    from = c;
  }
  let timer: NodeJS.Timeout | undefined;
  const safety = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no progress within ${SAFETY_MS} ms; client got ${JSON.stringify(got.text().slice(-200))}`)), SAFETY_MS);
  });
  try {
    await Promise.race([Promise.all([serve(conn, pauses(serverPauses)), writeChunks(client, chunks, pauses(clientGaps)), got.until(`BYE ${items.length}\r\n`)]), safety]);
  } finally {
    clearTimeout(timer);
    conn.destroy();
    client.destroy();
  }
  const want = [...items.map(expected), `BYE ${items.length}`].join('\r\n') + '\r\n';
  assert.equal(got.text(), want);
}

const conversation = fc.record({
  items: fc.array(item, { minLength: 1, maxLength: 8 }),
  style: fc.constantFrom('random' as const, 'bytewise' as const, 'terminator-alone' as const),
  random: fc.array(fc.nat(), { maxLength: 30 }),
  clientGaps: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 10 }),
  serverPauses: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 10 }),
});

for (const transport of ['tcp', 'duplex'] as const) {
  test(`property over ${transport}: every reply arrives, every byte is accounted for, no hang`, async () => {
    await fc.assert(
      fc.asyncProperty(conversation, (c) => runOnce(transport, c.items, c.style, c.random, c.clientGaps, c.serverPauses)),
      { numRuns: transport === 'tcp' ? 60 : 100 },
    );
  });
}
