// DATA   RFC 5321 4.1.1.4, 4.5.2 (dot-stuffing)
// BDAT chunk-size [LAST]   RFC 3030 2-4 (CHUNKING, BINARYMIME)
import { join } from 'node:path';
import type { SmtpSession } from '../session.js';
import { parseBdat } from '../protocol/command.js';
import { DataDecoder } from '../protocol/data-decoder.js';
import { MessageSpool } from '../../mail/message-source.js';
import { acceptMessage } from '../accept.js';

/** The one copy of the message on disk (or in memory when small) until it is stored; see src/mail/message-source.ts. */
function newSpool(s: SmtpSession): MessageSpool {
  return new MessageSpool(join(s.services.config.data, 'tmp'), { prefix: s.lmtp ? 'lmtp' : 'smtp' });
}

/** The chunk state BDAT and BURL (RFC 4468 3.2) add to: one decoder, one spool. */
type Chunking = { decoder: DataDecoder; spool: MessageSpool; failed: boolean };

export function newChunking(s: SmtpSession, binary: boolean): Chunking {
  return { decoder: new DataDecoder({ mode: 'raw', binary }), spool: newSpool(s), failed: false };
}

/** The LAST chunk (BDAT or BURL) is in: the message as a whole is accepted, and the transaction's chunking ends. */
export async function finishChunking(s: SmtpSession, tx: NonNullable<SmtpSession['tx']>, c: Chunking): Promise<void> {
  await c.spool.write(c.decoder.flush());
  tx.chunking = undefined;
  try {
    await acceptMessage(s, c.decoder, c.spool);
  } finally {
    await c.spool.dispose();
  }
}

export async function data(s: SmtpSession, args: string): Promise<void> {
  if (args !== '') return s.reply(501, '5.5.4', 'DATA takes no arguments');
  const tx = s.tx;
  if (!tx) return s.reply(503, '5.5.1', 'Need MAIL command first');
  if (tx.chunking) return s.reply(503, '5.5.1', 'DATA not allowed after BDAT'); // RFC 3030 2
  if (tx.recipients.length === 0) return s.reply(554, '5.5.1', 'No valid recipients'); // RFC 5321 3.3
  if (tx.mail.body === 'BINARYMIME') return s.reply(503, '5.5.1', 'BODY=BINARYMIME requires BDAT'); // RFC 3030 3
  s.reply(354, undefined, 'End data with <CR><LF>.<CR><LF>');
  const decoder = new DataDecoder({ mode: 'dot', binary: false });
  const spool = newSpool(s);
  const max = s.services.config.smtp.max_message_size;
  try {
    // Past the limit the rest is read and dropped, so the reply comes at the end (RFC 1870 6.3).
    await s.io.readUntilTerminator(decoder, async (out) => {
      if (decoder.size <= max) await spool.write(out);
    });
    await acceptMessage(s, decoder, spool);
  } finally {
    await spool.dispose();
  }
}

export async function bdat(s: SmtpSession, args: string): Promise<void> {
  const { size, last } = parseBdat(args);
  const tx = s.tx;
  const problem = !tx
    ? ([503, 'Need MAIL command first'] as const)
    : tx.recipients.length === 0
      ? ([554, 'No valid recipients'] as const)
      : tx.chunking?.failed
        ? ([503, 'Earlier chunk failed; send RSET'] as const)
        : null;
  if (problem || !tx) {
    await s.io.readExactly(size, async () => {}); // RFC 3030 2: the chunk is read even when refused
    return s.reply(problem?.[0] ?? 503, '5.5.1', problem?.[1] ?? 'Need MAIL command first');
  }
  const c = (tx.chunking ??= newChunking(s, tx.mail.body === 'BINARYMIME'));
  const max = s.services.config.smtp.max_message_size;
  await s.io.readExactly(size, async (piece) => {
    const { out } = c.decoder.push(piece);
    if (c.decoder.size <= max) await c.spool.write(out);
  });
  if (c.decoder.size > max) {
    c.failed = true;
    return s.reply(552, '5.3.4', `Message size exceeds fixed maximum message size of ${max} bytes`); // RFC 1870 6.3
  }
  if (!last) return s.reply(250, '2.0.0', `${size} octets received`);
  await finishChunking(s, tx, c);
}
