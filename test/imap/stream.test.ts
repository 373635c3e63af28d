// Streaming: FETCH BODY[] of a 50 MB message arrives as one literal of exactly RFC822.SIZE
// bytes, with bare LF sent as CRLF, read by a slow client (the server must respect backpressure).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, PASS, startImapServer, USER } from './client.js';

const SIZE = 50 * 1024 * 1024;

function bigMessage(): { raw: Buffer; wire: Buffer } {
  const head = `From: big@example.test\r\nTo: ${USER}\r\nSubject: big\r\n\r\n`;
  const line = 'x'.repeat(98);
  const lines: string[] = [];
  let n = head.length;
  for (let i = 0; n < SIZE; i++) {
    const eol = i % 1000 === 999 ? '\n' : '\r\n'; // a few bare LFs: sent as CRLF
    lines.push(line + eol);
    n += line.length + eol.length;
  }
  const raw = Buffer.from(head + lines.join(''));
  const wire = Buffer.from((head + lines.join('')).replace(/(?<!\r)\n/g, '\r\n'));
  return { raw, wire };
}

describe('IMAP streaming', () => {
  let server: RunningTestServer;
  let expected: Buffer;
  before(async () => {
    server = await startImapServer();
    const { raw, wire } = bigMessage();
    expected = wire;
    await deliver(server, raw);
  });
  after(async () => {
    await server?.stop();
  });

  test('FETCH BODY.PEEK[] of a 50 MB message: one literal of RFC822.SIZE bytes, exact content', { timeout: 180_000 }, async () => {
    const c = await Imap.open(server.ports.imap!);
    await c.ok('SELECT INBOX');
    const size = Number(/RFC822\.SIZE (\d+)/.exec(await c.ok('FETCH 1 RFC822.SIZE'))![1]);
    assert.equal(size, expected.length);
    c.close();

    // A raw reader that pauses now and then, so the server's writes must wait for drain.
    const socket = net.connect(server.ports.imap!, '127.0.0.1');
    const hash = createHash('sha256');
    let head = '';
    let literal = -1;
    let got = 0;
    let tail = '';
    const done = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        let data = chunk;
        if (literal < 0) {
          head += data.toString('latin1');
          const m = /b BODY\[\] \{(\d+)\}\r\n/.exec(head) ?? /\* 1 FETCH \(BODY\[\] \{(\d+)\}\r\n/.exec(head);
          if (!m) {
            if (head.includes('* OK') && !head.includes('a OK')) return;
            return;
          }
          literal = Number(m[1]);
          const start = head.indexOf(m[0]) + m[0].length;
          data = Buffer.from(head.slice(start), 'latin1');
        }
        const take = Math.min(data.length, literal - got);
        hash.update(data.subarray(0, take));
        got += take;
        tail += data.subarray(take).toString('latin1');
        if (got % (8 * 1024 * 1024) < chunk.length) {
          socket.pause();
          setTimeout(() => socket.resume(), 50);
        }
        if (got === literal && /b OK [^\r]*\r\n/.test(tail)) resolve();
      });
    });
    socket.write(`a LOGIN ${USER} ${PASS}\r\nx SELECT INBOX\r\nb FETCH 1 BODY.PEEK[]\r\n`);
    await done;
    socket.destroy();
    assert.equal(literal, expected.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(expected).digest('hex'));
    assert.match(tail, /^\)\r\nb OK FETCH completed\r\n/);
  });

  test('FETCH BODY.PEEK[]<partial> of the big message streams only the window', { timeout: 120_000 }, async () => {
    const c = await Imap.open(server.ports.imap!);
    await c.ok('SELECT INBOX');
    const off = 30 * 1024 * 1024 + 7;
    const text = await c.ok(`FETCH 1 BODY.PEEK[]<${off}.300>`);
    const m = /BODY\[\]<(\d+)> \{300\}\r\n([\s\S]{300})\)\r\n/.exec(text);
    assert.ok(m, text.slice(0, 200));
    assert.equal(m[2], expected.subarray(off, off + 300).toString('latin1'));
    c.close();
  });
});
