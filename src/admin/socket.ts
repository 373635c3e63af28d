/**
 * The local admin socket: `<data>/admin.sock`, a unix socket only the server's own user
 * can open (mode 0600, in the 0700 data directory). `mailroom status` asks it what is
 * listening and how many connections and sessions are open, instead of opening the
 * database behind the server's back. Protocol: the client sends one line (`status`), the
 * server answers one JSON line and closes.
 *
 * Never imports: the store, protocols. Invariants: a stale socket file from a crashed
 * server is replaced only when nothing answers on it; a second server on the same data
 * directory leaves the first one's socket alone (and says so); at close the file goes.
 */
import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const ADMIN_SOCKET = 'admin.sock';

export interface StatusReport {
  pid: number;
  startedAt: string;
  /** Bound address of each listener that is on, as host:port. */
  listeners: Record<string, string>;
  /** Open connections per listener. */
  connections: Record<string, number>;
  /** Logged-in sessions per protocol. */
  sessions: Record<string, number>;
}

export interface AdminSocket {
  path: string;
  close(): Promise<void>;
}

/** Longest request line; anything longer is not a request. */
const MAX_REQUEST = 256;

/** True when a server answers on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Listens on `<dataDir>/admin.sock`; `status()` builds the answer to `status`. Returns null (logged) when another server holds it. */
export async function startAdminSocket(dataDir: string, status: () => Promise<StatusReport>, log: Logger): Promise<AdminSocket | null> {
  const path = join(dataDir, ADMIN_SOCKET);
  const server = net.createServer((socket) => {
    let request = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      request += chunk;
      const end = request.indexOf('\n');
      if (end < 0) {
        if (request.length > MAX_REQUEST) socket.end(JSON.stringify({ error: 'request too long' }) + '\n');
        return;
      }
      const command = request.slice(0, end).trim();
      socket.removeAllListeners('data');
      if (command !== 'status') return void socket.end(JSON.stringify({ error: `unknown request ${JSON.stringify(command.slice(0, 40))}; known: status` }) + '\n');
      status().then(
        (report) => socket.end(JSON.stringify(report) + '\n'),
        (err: Error) => socket.end(JSON.stringify({ error: err.message }) + '\n'),
      );
    });
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => (server.off('error', reject), resolve()));
    });
  try {
    try {
      await listen();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await answers(path)) {
        log.warn({ path }, 'another server answers on the admin socket of this data directory; `mailroom status` will ask that one');
        return null;
      }
      await unlink(path); // left by a server that crashed
      await listen();
    }
  } catch (err) {
    // E.g. a data directory path too long for a unix socket (about 100 bytes): mail still flows.
    log.warn({ path, err: (err as Error).message }, 'no admin socket: `mailroom status` cannot ask this server');
    return null;
  }
  await chmod(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        unlink(path).catch(() => {});
      }),
  };
}

/** Asks the server on `<dataDir>/admin.sock` for its status; null when no server listens there. */
export function askStatus(dataDir: string, timeoutMs = 5000): Promise<StatusReport | null> {
  const path = join(dataDir, ADMIN_SOCKET);
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let answer = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`the server on ${path} did not answer within ${timeoutMs / 1000} s`));
    });
    s.once('connect', () => s.write('status\n'));
    s.on('data', (d: string) => (answer += d));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(null);
      else reject(new Error(`cannot reach ${path}: ${err.code ?? err.message}`));
    });
    s.once('end', () => {
      try {
        const parsed = JSON.parse(answer) as StatusReport & { error?: string };
        if (parsed.error) reject(new Error(parsed.error));
        else resolve(parsed);
      } catch {
        reject(new Error(`unexpected answer on ${path}`));
      }
    });
  });
}
