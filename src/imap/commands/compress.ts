// COMPRESS mechanism   RFC4978 3
import { tagged } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapCommand } from './types.js';

export const compress = {
  name: 'COMPRESS',
  states: ['authenticated', 'selected'],
  async run({ session, args, tag }) {
    const mech = args.atom('compression mechanism').toUpperCase();
    args.end();
    if (mech !== 'DEFLATE') throw new ImapNo(`Unknown compression mechanism ${mech.slice(0, 30)}`, 'CLIENTBUG', 'BAD');
    if (session.compressed) throw new ImapNo('DEFLATE is already active', 'COMPRESSIONACTIVE'); // RFC 4978 3
    // Pending changes go out before the switch, so the OK is the last uncompressed line.
    await session.announce(true);
    session.send(tagged(tag, 'OK', 'DEFLATE active'));
    session.startCompression();
    return { sent: true };
  },
} as const satisfies ImapCommand;
