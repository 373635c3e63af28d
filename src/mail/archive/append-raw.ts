/** Stores one message's exact bytes in a mailbox through the one ingest path, with its flags and INTERNALDATE. */
import { ingest, type IngestOptions } from '../../ingest.js';
import { isStoreError } from '../../store/errors.js';
import type { Id, MessageRow, Store } from '../../store/types.js';
import { MessageSource } from '../message-source.js';

export interface RawMessage {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

export async function appendRaw(store: Store, opts: IngestOptions, mailboxId: Id, m: RawMessage): Promise<MessageRow> {
  const source = MessageSource.fromBuffer(m.raw);
  let item = await ingest(store, source, opts);
  for (let attempt = 0; ; attempt++) {
    try {
      const { row } = await store.appendMessage({ mailboxId, content: item.content, flags: m.flags, internalDate: m.internalDate, threadKeys: item.index.threadKeys });
      return row;
    } catch (err) {
      if (!isStoreError(err, 'notfound') || attempt >= 2) throw err; // the shared content was released meanwhile: write it again
      item = await item.fresh();
    }
  }
}
