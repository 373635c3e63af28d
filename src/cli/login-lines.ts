/** One failed login as a line of `mailroom user show` (tab-separated, like `device list`). */
import type { FailedLogin } from '../store/types.js';

/** Text a client sent, safe on a terminal: control characters and tabs shown as escapes, never sent raw. */
export function terminalSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** time, protocol, address, reason, device (or -), the name as sent. */
export function failedLoginLine(f: FailedLogin): string {
  return [f.at.toISOString(), f.protocol, terminalSafe(f.address), f.reason, terminalSafe(f.device ?? '-'), terminalSafe(f.username)].join('\t');
}
