/**
 * Shared setup for the SMTP tests: a data directory with users and aliases made
 * through the store before the server starts, a store handle to look at what was
 * delivered, and a tiny SMTP reply reader over the raw transcript.
 */
import { join } from 'node:path';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import type { MessageRow, Store } from '../../src/store/types.js';
import { createUser } from '../../src/mail/accounts.js';
import { startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import tls from 'node:tls';
import { Transcript } from '../harness/transcript.js';

export interface World {
  server: RunningTestServer;
  store: Store;
  dir: string;
  /** Raw bytes of every message in a user's mailbox, ascending UID. */
  messages(address: string, mailbox?: string): Promise<{ row: MessageRow; text: string; raw: Buffer }[]>;
  stop(): Promise<void>;
}

/** Users alice, bob (password "secret"), carol@other.test; aliases sales→alice+bob, @other.test→carol. */
export async function startWorld(env: Record<string, string> = {}, prepare?: (store: Store) => Promise<void>): Promise<World> {
  const { dir, dataDir } = tempDirs();
  const setup = await openStore({ dataDir, bus: new LocalChangeBus() });
  await createUser(setup, 'alice@example.test', 'secret');
  await createUser(setup, 'bob@example.test', 'secret');
  await createUser(setup, 'carol@other.test', 'secret');
  await setup.addAlias('sales@example.test', 'alice@example.test');
  await setup.addAlias('sales@example.test', 'bob@example.test');
  await setup.addAlias('@other.test', 'carol@other.test');
  await prepare?.(setup);
  await setup.close();
  const server = await startServer({ dataDir, env: { MAILROOM_HOSTNAME: 'mx.example.test', ...env } });
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  return {
    server,
    store,
    dir,
    async messages(address, mailbox = 'INBOX') {
      const user = await store.getUser(address);
      const box = user && (await store.getMailbox(user.id, mailbox));
      if (!user || !box) throw new Error(`no ${mailbox} for ${address}`);
      const rows = await store.listMessages(box.id, user.id);
      const out = [];
      for (const row of rows) {
        const chunks: Buffer[] = [];
        for await (const c of await store.openContent(row.contentId)) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        out.push({ row, text: raw.toString('utf8'), raw });
      }
      return out;
    },
    async stop() {
      await store.close();
      await server.stop();
    },
  };
}

/** Reads one complete (possibly multi-line) SMTP reply. */
export function reply(t: Transcript, timeoutMs?: number): Promise<string> {
  return t.readUntil(/(^|\r\n)\d{3} [^\r\n]*\r\n/, timeoutMs);
}

/** Sends a line and reads the reply. */
export async function cmd(t: Transcript, line: string): Promise<string> {
  t.send(`${line}\r\n`);
  return reply(t);
}

export const dataDirOf = (w: World) => join(w.dir, 'data');

/** Wraps the transcript's socket in TLS (after a 220 to STARTTLS). */
export async function upgrade(t: Transcript): Promise<Transcript> {
  t.socket.removeAllListeners('data');
  const secure = tls.connect({ socket: t.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  return new Transcript(secure, 5000);
}
