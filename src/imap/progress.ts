/**
 * INPROGRESS (RFC 9585): while a long SEARCH, SORT, THREAD, COPY or MOVE runs, an untagged
 * `* OK [INPROGRESS ("tag" done total)]` every interval tells the client (and any middlebox
 * timing out idle connections) that the command is alive. Counts are NIL when unknown (a COPY
 * is one store transaction). Only the running command's own untagged data follows, so the
 * line never splits a response; `stop()` is called before the command writes its result.
 */
import { formatString } from './protocol/index.js';

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private done: number | null = null;
  private total: number | null = null;

  /** `intervalMs` 0: never reports. */
  constructor(
    private readonly send: (line: string) => void,
    private readonly tag: string,
    intervalMs: number,
  ) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.report(), intervalMs);
      this.timer.unref();
    }
  }

  /** The latest counts (done <= total). */
  set(done: number, total: number): void {
    this.done = Math.min(done, total);
    this.total = total;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private report(): void {
    if (!this.timer) return;
    const n = (v: number | null) => (v === null ? 'NIL' : String(v));
    this.send(`* OK [INPROGRESS (${formatString(this.tag)} ${n(this.done)} ${n(this.total)})] Still working\r\n`);
  }
}

/** Runs `work` with a progress reporter that is stopped when it ends (or fails). */
export async function withProgress<T>(send: (line: string) => void, tag: string, intervalMs: number, work: (p: Progress) => Promise<T>): Promise<T> {
  const p = new Progress(send, tag, intervalMs);
  try {
    return await work(p);
  } finally {
    p.stop();
  }
}
