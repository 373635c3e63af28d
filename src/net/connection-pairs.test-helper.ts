/**
 * Test transports for the connection layer: a real TCP pair on 127.0.0.1 port 0,
 * and an in-process Duplex pair that delivers every write as exactly one chunk
 * (so a test can say "the terminator alone" and mean it).
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { Connection, type ConnectionOptions } from './connection.js';

export interface Pair {
  /** The server side, read through the connection layer. */
  conn: Connection;
  /** The raw server-side socket. */
  server: net.Socket;
  /** The client side. */
  client: Duplex;
}

export type Transport = 'tcp' | 'duplex';

export async function pair(transport: Transport, opts: Partial<ConnectionOptions> = {}): Promise<Pair> {
  const { server, client } = transport === 'tcp' ? await tcpSockets() : duplexSockets();
  const conn = new Connection(server, { idleTimeoutMs: 30_000, ...opts });
  return { conn, server, client };
}

export async function tcpSockets(): Promise<{ server: net.Socket; client: net.Socket }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const server = await accepted;
  listener.close();
  return { server, client };
}

/** Two cross-linked Duplexes; ending one ends the other's input, destroying one closes both. */
export function duplexSockets(): { server: net.Socket; client: Duplex } {
  const make = (peer: () => Duplex) =>
    new Duplex({
      allowHalfOpen: false, // as a net.Socket: the end of input ends the output
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  // eslint-disable-next-line prefer-const
  let server: Duplex;
  const client = make(() => server);
  server = make(() => client);
  // The connection layer takes a net.Socket; a Duplex has every member it uses except TCP options, which it checks for.
  return { server: server as unknown as net.Socket, client };
}

/** Collects what the client receives. */
export function received(client: Duplex): { text(): string; bytes(): Buffer; until(pattern: string): Promise<string> } {
  const chunks: Buffer[] = [];
  let waiters: (() => void)[] = [];
  let ended = false;
  client.on('data', (c: Buffer) => {
    chunks.push(c);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const onEnd = () => {
    ended = true;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  client.on('end', onEnd);
  client.on('close', onEnd);
  const bytes = () => Buffer.concat(chunks);
  return {
    bytes,
    text: () => bytes().toString('latin1'),
    async until(pattern) {
      while (!bytes().toString('latin1').includes(pattern)) {
        if (ended) throw new Error(`connection ended before ${JSON.stringify(pattern)}; got ${JSON.stringify(bytes().toString('latin1').slice(-300))}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return bytes().toString('latin1');
    },
  };
}

/** Writes the chunks one by one, each its own write, yielding to the event loop between them. */
export async function writeChunks(client: Duplex, chunks: (string | Buffer)[], gap: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<void> {
  for (const c of chunks) {
    if (!client.write(c)) await new Promise((r) => client.once('drain', r));
    await gap();
  }
}
