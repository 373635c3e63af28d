/**
 * Opens the configured store: SQLite under the data directory (default), or the backend
 * a database URL names. The PostgreSQL backend will add itself here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChangeBus } from './bus.js';
import { StoreError } from './errors.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** `<dataDir>/mailroom.db` and `<dataDir>/blobs/` */
  dataDir: string;
  /** MAILROOM_DATABASE_URL; empty or absent selects SQLite. */
  databaseUrl?: string;
  bus: ChangeBus;
}

/** Opens and migrates the store. Throws StoreError 'invalid' for an unsupported database URL. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const url = opts.databaseUrl?.trim() ?? '';
  if (url !== '') {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    if (scheme === 'postgres' || scheme === 'postgresql') {
      throw new StoreError('invalid', 'PostgreSQL store is not available in this version (MAILROOM_DATABASE_URL)');
    }
    throw new StoreError('invalid', `unsupported database URL scheme ${JSON.stringify(scheme ?? url.slice(0, 40))} in MAILROOM_DATABASE_URL`);
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const store = new SqliteStore({ file: path.join(opts.dataDir, 'mailroom.db'), blobDir: path.join(opts.dataDir, 'blobs'), bus: opts.bus });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
