// CAPA / STLS / UTF8 / NOOP / QUIT   RFC2449 5, RFC2595 4, RFC6856 3.1, RFC1939 5-6
/** Commands about the session itself rather than messages. */
import { multiline, ok } from '../protocol/responses.js';
import type { CommandEntry } from './types.js';

export const capa: CommandEntry = {
  states: ['authorization', 'transaction'],
  run: (s) => s.send(multiline('capability list follows', s.capabilities())), // RFC 2449 5
};

export const stls: CommandEntry = {
  states: ['authorization'],
  async run(s, cmd) {
    if (cmd.args.length > 0) return s.fail('STLS takes no arguments');
    if (s.tls) return s.fail('TLS is already active'); // RFC 2595 4
    if (!s.canStls()) return s.fail('STLS is not available on this port', 'SYS/PERM');
    await s.send(ok('begin TLS negotiation'));
    await s.startTls();
  },
};

export const utf8: CommandEntry = {
  states: ['authorization'], // RFC 6856 3.1: only before login
  async run(s, cmd) {
    if (cmd.args.length > 0) return s.fail('UTF8 takes no arguments');
    s.utf8 = true;
    await s.send(ok('UTF8 enabled'));
  },
};

export const noop: CommandEntry = {
  states: ['transaction'],
  async run(s, cmd) {
    if (cmd.args.length > 0) return s.fail('NOOP takes no arguments');
    await s.send(ok());
  },
};

export const quit: CommandEntry = {
  states: ['authorization', 'transaction'],
  async run(s) {
    const st = s.state;
    if (st.name !== 'transaction') return s.quit(ok('Mailroom POP3 server signing off'));
    try {
      const removed = await st.drop.commit(); // RFC 1939 6: the UPDATE state
      s.net.log.info({ removed }, 'pop3 update');
      await s.quit(ok(`Mailroom POP3 server signing off (${removed} message${removed === 1 ? '' : 's'} removed)`));
    } catch (e) {
      s.net.log.error({ err: e }, 'pop3 update failed');
      await s.quit('-ERR [SYS/TEMP] some deleted messages were not removed; try again\r\n'); // RFC 1939 6: -ERR when removal fails
    }
  },
};
