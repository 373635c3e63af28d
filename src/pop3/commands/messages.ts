// STAT / LIST [msg] / RETR msg / DELE msg / RSET / TOP msg n / UIDL [msg]   RFC1939 5, 7
/**
 * The TRANSACTION commands on the maildrop snapshot. Message numbers are positions in
 * the snapshot taken at login; a number out of range or marked deleted is an -ERR and
 * the session continues (RFC 1939 5).
 */
import type { MaildropMessage } from '../../mail/maildrop.js';
import { parseLineCount, parseMessageNumber, type Pop3Command } from '../protocol/command.js';
import { DotStuffer } from '../protocol/dot-stuff.js';
import { multiline, ok } from '../protocol/responses.js';
import type { Pop3Session } from '../session.js';
import type { CommandEntry } from './types.js';

function dropOf(s: Pop3Session) {
  if (s.state.name !== 'transaction') throw new Error('not in TRANSACTION');
  return s.state.drop;
}

/** The message named by `text`, or null after answering -ERR. */
async function pick(s: Pop3Session, text: string | undefined): Promise<MaildropMessage | null> {
  const n = parseMessageNumber(text);
  if (n === null) {
    await s.fail(`message number expected, got ${JSON.stringify((text ?? '').slice(0, 20))}`);
    return null;
  }
  const drop = dropOf(s);
  const m = drop.get(n);
  if (m === 'nosuch') {
    await s.fail(`no such message, only ${drop.messages.length} message${drop.messages.length === 1 ? '' : 's'} in maildrop`);
    return null;
  }
  if (m === 'deleted') {
    await s.fail(`message ${n} already deleted`);
    return null;
  }
  return m;
}

async function arity(s: Pop3Session, cmd: Pop3Command, min: number, max: number, usage: string): Promise<boolean> {
  if (cmd.args.length >= min && cmd.args.length <= max) return true;
  await s.fail(`usage: ${usage}`);
  return false;
}

/**
 * Streams bytes [start, end) of the content through the encoder into the session's
 * output batch, which waits on socket backpressure whenever it is written.
 */
async function streamRange(s: Pop3Session, m: MaildropMessage, start: number, end: number | undefined, enc: DotStuffer): Promise<void> {
  if (enc.done || (end !== undefined && end <= start)) return;
  const stream = await s.services.store.openContent(m.contentId, start, end);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    await s.sendBody(enc.encode(chunk));
    if (enc.done) break; // leaving the loop destroys the stream
  }
}

export const stat: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 0, 0, 'STAT'))) return;
    const { count, octets } = dropOf(s).stat();
    await s.send(ok(`${count} ${octets}`)); // RFC 1939 5: exactly "+OK nn mm"
  },
};

export const list: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 0, 1, 'LIST [message-number]'))) return;
    if (cmd.args.length === 1) {
      const m = await pick(s, cmd.args[0]);
      if (m) await s.send(ok(`${cmd.args[0].replace(/^0+/, '')} ${m.octets}`));
      return;
    }
    const drop = dropOf(s);
    const { count, octets } = drop.stat();
    const lines = drop.messages.flatMap((m, i) => (m.deleted ? [] : [`${i + 1} ${m.octets}`])); // RFC 1939 5: deleted ones are not listed
    await s.send(multiline(`${count} messages (${octets} octets)`, lines));
  },
};

export const uidl: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 0, 1, 'UIDL [message-number]'))) return;
    if (cmd.args.length === 1) {
      const m = await pick(s, cmd.args[0]);
      if (m) await s.send(ok(`${cmd.args[0].replace(/^0+/, '')} ${m.uidl}`));
      return;
    }
    const lines = dropOf(s).messages.flatMap((m, i) => (m.deleted ? [] : [`${i + 1} ${m.uidl}`]));
    await s.send(multiline('unique-id listing follows', lines));
  },
};

export const retr: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 1, 1, 'RETR message-number'))) return;
    const m = await pick(s, cmd.args[0]);
    if (!m) return;
    await s.send(ok(`${m.octets} octets`));
    const enc = new DotStuffer(null, m.crlfOnly);
    const ahead = await s.readAhead.take(m.contentId);
    // Clients download in order: the next message is read while this one goes out.
    const following = dropOf(s).get(parseMessageNumber(cmd.args[0])! + 1);
    if (typeof following === 'object') s.readAhead.start(following.contentId, following.octets);
    if (ahead) {
      s.sendWhole([...ahead.map((chunk) => enc.encode(chunk)), enc.finish()]); // held whole already: one write with the terminator
      await s.flushIfFull();
    } else {
      await streamRange(s, m, 0, undefined, enc);
      await s.sendBody(enc.finish());
    }
    await dropOf(s).retrieved(m);
  },
};

export const top: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 2, 2, 'TOP message-number lines'))) return;
    const lines = parseLineCount(cmd.args[1]);
    if (lines === null) return s.fail(`number of lines expected, got ${JSON.stringify(cmd.args[1].slice(0, 20))}`);
    const m = await pick(s, cmd.args[0]);
    if (!m) return;
    await s.send(ok('top of message follows'));
    const enc = new DotStuffer(null, m.crlfOnly);
    await streamRange(s, m, 0, m.bodyStart, enc); // RFC 1939 7: the header and the blank line
    enc.limitLines(lines);
    await streamRange(s, m, m.bodyStart, undefined, enc);
    await s.sendBody(enc.finish());
  },
};

export const dele: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 1, 1, 'DELE message-number'))) return;
    const m = await pick(s, cmd.args[0]);
    if (!m) return;
    if (s.state.name === 'transaction' && s.state.drop.readOnly) return s.fail('this device is read-only; DELE refused');
    m.deleted = true; // RFC 1939 5: only marked; removed in UPDATE
    await s.send(ok(`message ${cmd.args[0].replace(/^0+/, '')} deleted`));
  },
};

export const rset: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (!(await arity(s, cmd, 0, 0, 'RSET'))) return;
    const drop = dropOf(s);
    drop.reset();
    const { count, octets } = drop.stat();
    await s.send(ok(`maildrop has ${count} messages (${octets} octets)`));
  },
};
