/**
 * The only error a store throws. Protocol layers map each code to their own reply
 * (IMAP NO [ALREADYEXISTS], POP3 -ERR, SMTP 452 …) in one place per protocol.
 */
export type StoreErrorCode =
  | 'exists' // a domain, user, alias or mailbox of that name already exists
  | 'notfound' // the named domain, user, mailbox or content does not exist
  | 'conflict' // the change contradicts stored state (e.g. delete a domain that has users)
  | 'overquota' // storage or message-count quota would be exceeded
  | 'invalid' // an argument the store cannot accept (bad name, empty address)
  | 'unavailable'; // the backend is temporarily unreachable; retrying may succeed

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
