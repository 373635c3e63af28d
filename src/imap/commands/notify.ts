// NOTIFY SET [STATUS] event-groups / NOTIFY NONE   RFC5465 3
// A failed NOTIFY SET leaves the previous setting in force; NOTIFY NONE ends it.
import { BadEventError, NOTIFY_EVENTS, parseNotify } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { Notifier } from '../notifier.js';
import type { ImapCommand } from './types.js';

export const notify = {
  name: 'NOTIFY',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    let request;
    try {
      request = parseNotify(args);
    } catch (err) {
      if (!(err instanceof BadEventError)) throw err;
      throw new ImapNo(`Event ${err.message.slice(0, 40)} is not supported`, `BADEVENT (${NOTIFY_EVENTS.join(' ')})`);
    }
    if (request.kind === 'none') {
      s.setNotifier(undefined);
      return { text: 'NOTIFY NONE completed' };
    }
    const { notifier, lines } = await Notifier.start(s, request.groups, request.status);
    s.setNotifier(notifier);
    if (lines.length > 0) s.send(lines.join(''));
    return { text: 'NOTIFY completed' };
  },
} as const satisfies ImapCommand;
