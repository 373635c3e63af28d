/**
 * The one change poller of a process. It watches a token that changes when ANOTHER
 * connection committed to the database (SQLite `PRAGMA data_version` on the store's own
 * connection: its own commits do not move it) and rings RECHECK on the bus when it
 * moved. So a commit by `mailroom` CLI commands or a second server on the same data
 * directory reaches every IDLE session through one timer per process instead of one
 * timer per session.
 *
 * Invariants: one probe per period, whatever the number of sessions; the timer never
 * keeps the process alive; a probe that throws (database closed, busy) is skipped and
 * tried again at the next period.
 */
export interface ChangePoller {
  stop(): void;
}

/** Calls `probe()` every `periodMs` and `ring()` each time its value differs from the last one. */
export function startChangePoller(probe: () => number, ring: () => void, periodMs: number): ChangePoller {
  let last: number;
  try {
    last = probe();
  } catch {
    last = Number.NaN;
  }
  const timer = setInterval(() => {
    let now: number;
    try {
      now = probe();
    } catch {
      return;
    }
    if (now === last) return;
    // NaN (first probe failed) never equals anything: the first good probe rings once, which only costs one re-check.
    last = now;
    ring();
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
