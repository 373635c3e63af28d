/**
 * Session state as a discriminated union (RFC 9051 3): a state that does not allow a
 * command has no data for it, so e.g. a command that needs the selected mailbox cannot
 * run without one.
 */
import type { User } from '../store/types.js';
import type { MailboxView } from './selected.js';

export type SessionState =
  | { kind: 'notAuthenticated' }
  | { kind: 'authenticated'; user: User }
  | { kind: 'selected'; user: User; view: MailboxView }
  | { kind: 'logout' };

export type StateKind = SessionState['kind'];
