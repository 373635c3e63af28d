/**
 * The time a SEARCH (and SORT, THREAD: they search first) may take, so one client's
 * query can neither hold the store nor the event loop for long: past the budget the
 * command ends with `NO [LIMIT]` (RFC 5530), and long evaluation yields to other
 * sessions now and then. Also shares the store's answer between identical text keys of
 * one query (`NOT BODY x NOT BODY x …` asks once).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Store } from '../../store/types.js';
import { ImapNo } from '../errors.js';

/** Synchronous work between yields: other sessions wait at most about this long. */
const SLICE_MS = 20;

export class SearchBudget {
  private readonly deadline: number;
  private sliceStart = Date.now();

  constructor(readonly limitMs: number) {
    this.deadline = Date.now() + limitMs;
  }

  /** Throws `NO [LIMIT]` once the budget is spent. */
  check(): void {
    if (Date.now() > this.deadline) throw new ImapNo(`Search took too long (limit ${this.limitMs} ms); narrow it down`, 'LIMIT');
  }

  /** Checks the budget, and lets other work run when this search has run for a while. */
  async pause(): Promise<void> {
    this.check();
    if (Date.now() - this.sliceStart < SLICE_MS) return;
    await yieldToLoop();
    this.sliceStart = Date.now();
    this.check();
  }

  /** The store's text search, within this budget and asked once per distinct (part, term). */
  textSearch(store: Pick<Store, 'searchText'>): Pick<Store, 'searchText'> {
    const asked = new Map<string, ReturnType<Store['searchText']>>();
    return {
      searchText: (mailboxId, part, value) => {
        const key = `${mailboxId}\0${part}\0${value}`;
        let answer = asked.get(key);
        if (!answer) {
          this.check();
          answer = store.searchText(mailboxId, part, value);
          asked.set(key, answer);
        }
        return answer.then((uids) => (this.check(), uids));
      },
    };
  }
}
