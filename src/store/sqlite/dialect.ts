/** SQLite's spelling of the few things SQL does not say one way (see ../core/port.ts). */
import type { Dialect } from '../core/port.js';
import { filterCondition } from '../core/text-filter.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  // BEGIN IMMEDIATE takes the one write lock of the file: no other writer runs meanwhile.
  rowLocks: false,
  lock: () => '',
  skipLocked: '',
  byteOrder: '', // BINARY, the default collation, compares bytes
  inList: () => 'IN (SELECT value FROM json_each(?))',
  list: () => 'json_each(?) AS lst',
  listParam: (values) => JSON.stringify(values),
  nowMs: `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
  position: (expr) => `instr(${expr}, ?)`,
  // A trigram filter in each message row (schema 23, ../core/text-filter.ts), tested while the
  // mailbox's rows are read: ~0.24 KB a small message where the FTS5 trigram index it
  // replaced took ~1.45 KB (issue 13), and nothing to update in the delivery transaction
  // but the row itself.
  packsText: true,
  writableCte: false,
  textIndex: { minTerm: 3, condition: filterCondition },
};
