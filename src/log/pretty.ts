/**
 * The terminal form of a log line: pino's JSON turned into one readable line,
 * `12:04:31.207 INFO  imap 3fK9aQ1x  login user=alice@example.test protocol=imap client=127.0.0.1`.
 * Time first (local clock), level, where (listener and session, or component), the
 * message, then the other fields as key=value (quoted when they contain spaces); an
 * error shows its message, and its stack at debug/trace level.
 *
 * Never imports: anything outside node. Invariant: one input line → one output line
 * (a newline inside a value is escaped), so terminal output stays greppable.
 */
const LEVELS: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR', fatal: 'FATAL' };
const COLOURS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
const PLACED = new Set(['time', 'level', 'msg', 'listener', 'session', 'component']);

function scalar(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') {
    const json = JSON.stringify(v); // already one line
    return /\s/.test(json) ? JSON.stringify(json) : json;
  }
  const s = typeof v === 'string' ? v : String(v as number);
  const escaped = s.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return /[\s"=]/.test(escaped) || escaped === '' ? JSON.stringify(s) : escaped;
}

function clock(time: unknown): string {
  const d = new Date(typeof time === 'string' || typeof time === 'number' ? time : Date.now());
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One JSON log line (as pino writes it) → one readable line with its newline; non-JSON passes through. */
export function prettyLine(json: string, colour = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const level = String(o.level ?? 'info');
  const label = LEVELS[level] ?? level.toUpperCase().padEnd(5);
  const where = [o.listener ?? o.component, o.session].filter((x) => x !== undefined).map(String).join(' ');
  const parts = [clock(o.time), colour ? `\x1b[${COLOURS[level] ?? '0'}m${label}\x1b[0m` : label];
  if (where) parts.push(where.padEnd(16));
  parts.push(String(o.msg ?? ''));
  for (const [k, v] of Object.entries(o)) {
    if (PLACED.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { message?: string; stack?: string };
      parts.push(`err=${scalar(e.message ?? v)}`);
      if (e.stack && (level === 'debug' || level === 'trace')) parts.push(`stack=${scalar(e.stack)}`);
      continue;
    }
    parts.push(`${k}=${scalar(v)}`);
  }
  return parts.join(' ') + '\n';
}
