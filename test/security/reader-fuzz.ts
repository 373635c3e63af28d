/**
 * A byte-level fuzz of every reader over real sockets: random bytes mixed with each
 * protocol's own tokens (literal markers, DATA, dots, CRLFs, PROXY signatures, HTTP
 * header pieces), sent on one connection which the client then half-closes. The server
 * must answer or wait, and close its side once the input ended; afterwards it is still
 * alive, serves a legitimate login and has logged no error. Used by reader-fuzz.test.ts
 * (a fixed seed, few runs, in CI) and by `npm run bench -- fuzz` (many runs).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { cli, legitimateImap, PASSWORD, USER } from './helpers.js';

export type Reader = 'imap' | 'pop3' | 'smtp' | 'proxy' | 'http';
export const READERS: Reader[] = ['imap', 'pop3', 'smtp', 'proxy', 'http'];

const CRLF = ['\r\n', '\n', '\r', '\r\n\r\n'];
const TOKENS: Record<Reader, string[]> = {
  imap: [...CRLF, 'a LOGIN ', 'b SELECT INBOX', 'AUTHENTICATE PLAIN', '{5}', '{3+}', '~{4}', '{99999999}', '{0}', '"', '\\', '(', ')', 'STARTTLS', 'IDLE', 'DONE', '*', ' '],
  pop3: [...CRLF, 'USER ', 'PASS ', 'AUTH PLAIN', 'AUTH PLAIN =', 'APOP x y', 'STLS', 'RETR 1', 'TOP 1 0', 'UIDL', 'CAPA', '*', ' '],
  smtp: [...CRLF, 'EHLO x', 'HELO x', 'MAIL FROM:<a@remote.test>', `RCPT TO:<${USER}>`, 'DATA', '\r\n.\r\n', '.', 'BDAT 5', 'BDAT 0 LAST', 'AUTH PLAIN', 'STARTTLS', 'RSET', ' SIZE=9', ' BODY=8BITMIME'],
  proxy: [...CRLF, 'PROXY TCP4 127.0.0.2 127.0.0.1 5000 25', 'PROXY UNKNOWN', 'PROXY TCP6 ::1 ::1 1 2', 'PROXY ', '\r\n\r\n\0\r\nQUIT\n', '\x21\x11\x00\x0c', '\x7f\x00\x00\x01', 'EHLO x'],
  http: [...CRLF, 'GET /healthz HTTP/1.1', 'POST / HTTP/1.0', 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked', '0\r\n\r\n', 'Connection: keep-alive', ': ', ' '],
};

/** The listener each reader is reached on (PROXY headers are expected on submission). */
const PORT: Record<Reader, 'imap' | 'pop3' | 'smtp' | 'submission' | 'http'> = { imap: 'imap', pop3: 'pop3', smtp: 'smtp', proxy: 'submission', http: 'http' };

export function inputs(reader: Reader, runs: number, seed: number): Buffer[] {
  const piece = fc.oneof(
    { arbitrary: fc.constantFrom(...TOKENS[reader]).map((t) => Buffer.from(t, 'latin1')), weight: 3 },
    { arbitrary: fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a)), weight: 1 },
  );
  return fc.sample(fc.array(piece, { maxLength: 24 }).map((parts) => Buffer.concat(parts)), { numRuns: runs, seed });
}

export async function fuzzServer(): Promise<RunningTestServer> {
  const server = await startServer({ env: { MAILROOM_PROXY_LISTENERS: 'submission', MAILROOM_LIMITS_LINE_TIMEOUT_S: '5', MAILROOM_LIMITS_LOGIN_TIMEOUT_S: '10' } });
  await cli(server, 'user', 'add', USER, '--password', PASSWORD);
  return server;
}

/** Sends `bytes`, half-closes, and resolves once the server closed too; rejects when it does not within `ms`. */
function oneConnection(port: number, bytes: Buffer, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = 0;
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`the server kept the connection open ${ms} ms after the input ended (${got} bytes answered) for input ${JSON.stringify(bytes.toString('latin1'))}`))), ms);
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('error', () => {}); // a reset is a way of closing too
    s.on('close', () => (clearTimeout(timer), resolve()));
    s.end(bytes);
  });
}

/** Runs every input against its reader, then checks the server is alive, serves a login and logged no error. */
export async function fuzzReaders(server: RunningTestServer, runs: number, seed: number, parallel = 4): Promise<Record<Reader, number>> {
  const done = { imap: 0, pop3: 0, smtp: 0, proxy: 0, http: 0 };
  for (const reader of READERS) {
    const queue = inputs(reader, runs, seed);
    const port = server.ports[PORT[reader]]!;
    const worker = async () => {
      for (let bytes = queue.shift(); bytes; bytes = queue.shift()) {
        await oneConnection(port, bytes, 15_000);
        done[reader]++;
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }
  process.kill(server.pid, 0); // still running
  await legitimateImap(server.ports.imap!);
  const errors = server.stdout.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors, [], 'no error logged while fuzzing');
  return done;
}
