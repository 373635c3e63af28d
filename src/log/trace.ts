/**
 * Opt-in protocol trace (`log.trace = true`): every line a session reads or writes,
 * logged as `{"msg":"trace","dir":"C"|"S","line":…}` with secrets replaced by `***`.
 *
 * Redaction is stateful because secrets also travel on lines that do not say so:
 * SASL continuations (IMAP AUTHENTICATE, POP3 AUTH, SMTP AUTH) and IMAP literals
 * after LOGIN. The redactor watches server lines to learn when such an exchange ends.
 * It errs towards hiding: an unclear line inside an exchange is hidden whole.
 *
 * Sessions call `tracer.client(line)` for each line read and `tracer.server(line)`
 * for each line written, and `expectSecretContinuation()` when their own parser
 * knows the next client line is secret in a way the redactor cannot see.
 */
import type { Logger } from 'pino';

export type TraceProtocol = 'imap' | 'pop3' | 'smtp' | 'lmtp';
export type TraceDirection = 'C' | 'S';

const HIDDEN = '***';
const MAX_LINE = 1000;
/** IMAP literal marker at the end of a line: `{5}`, `{5+}`, `~{5}`. */
const LITERAL_AT_END = /~?\{\d+\+?\}$/;

type State = 'plain' | 'sasl' | 'literal-chain' | 'next-secret';

/** Redacts secrets from one conversation's lines; one instance per connection. */
export class Redactor {
  private state: State = 'plain';

  constructor(readonly protocol: TraceProtocol) {}

  /** The next client line is secret whatever it says (used once). */
  expectSecretContinuation(): void {
    if (this.state === 'plain') this.state = 'next-secret';
  }

  /** Returns the line as it may be logged. */
  redact(direction: TraceDirection, line: string): string {
    return direction === 'C' ? this.client(line) : this.server(line);
  }

  private client(line: string): string {
    switch (this.state) {
      case 'next-secret':
        this.state = 'plain';
        return HIDDEN;
      case 'literal-chain':
        if (!LITERAL_AT_END.test(line)) this.state = 'plain';
        return HIDDEN;
      case 'sasl':
        // "*" cancels an exchange in all three protocols (RFC9051 6.2.2, RFC5034 4, RFC4954 4).
        return line.trim() === '*' ? '*' : HIDDEN;
      case 'plain':
        return this.protocol === 'imap' ? this.imapCommand(line) : this.protocol === 'pop3' ? this.pop3Command(line) : this.smtpCommand(line);
    }
  }

  private server(line: string): string {
    if (this.state === 'sasl' && !this.isContinuation(line)) this.state = 'plain';
    return line;
  }

  private isContinuation(line: string): boolean {
    if (this.protocol === 'imap') return line.startsWith('+') || line.startsWith('*');
    if (this.protocol === 'pop3') return line === '+' || line.startsWith('+ ');
    return line.startsWith('334');
  }

  private imapCommand(line: string): string {
    const m = /^(\S+) +(LOGIN|AUTHENTICATE)(?: +(.*))?$/i.exec(line);
    if (!m) return line;
    const [, tag, command, rest = ''] = m;
    if (command.toUpperCase() === 'AUTHENTICATE') {
      this.state = 'sasl';
      const [mechanism, initial] = rest.split(/ +/, 2);
      return initial === undefined ? line : `${tag} ${command} ${mechanism} ${HIDDEN}`; // SASL-IR, RFC4959
    }
    if (LITERAL_AT_END.test(rest)) this.state = 'literal-chain';
    // Keep the user name when it is an atom or a quoted string; hide everything after it.
    const user = /^(?:"(?:[^"\\]|\\.)*"|[^\s"{~]+)/.exec(rest)?.[0];
    return user ? `${tag} ${command} ${user} ${HIDDEN}` : `${tag} ${command} ${HIDDEN}`;
  }

  private pop3Command(line: string): string {
    const m = /^(PASS|APOP|AUTH)(?: +(.*))?$/i.exec(line);
    if (!m) return line;
    const [, command, rest] = m;
    switch (command.toUpperCase()) {
      case 'PASS':
        return `${command} ${HIDDEN}`; // the whole rest: POP3 passwords may contain spaces
      case 'APOP':
        return `${command} ${rest?.split(' ')[0] ?? ''} ${HIDDEN}`;
      default:
        return this.saslStart(command, rest);
    }
  }

  private smtpCommand(line: string): string {
    const m = /^(AUTH)(?: +(.*))?$/i.exec(line);
    return m ? this.saslStart(m[1], m[2]) : line;
  }

  /** `AUTH mechanism [initial-response]`: hide the response and what follows it. */
  private saslStart(command: string, rest: string | undefined): string {
    if (rest === undefined || rest.trim() === '') return command; // POP3 "AUTH" alone lists mechanisms
    this.state = 'sasl';
    const [mechanism, initial] = rest.trim().split(/ +/, 2);
    return initial === undefined ? `${command} ${mechanism}` : `${command} ${mechanism} ${HIDDEN}`;
  }
}

/** What a session holds: call `client`/`server` for every line; no-ops when tracing is off. */
export interface Tracer {
  readonly enabled: boolean;
  client(line: string | Buffer): void;
  server(line: string | Buffer): void;
  expectSecretContinuation(): void;
}

/** The tracer of every connection that is not traced (one shared object). */
export const TRACE_OFF: Tracer = Object.freeze({ enabled: false, client() {}, server() {}, expectSecretContinuation() {} });

/** Creates the tracer for one connection. When disabled, every call is a cheap no-op. */
export function createTracer(protocol: TraceProtocol, logger: Logger, enabled: boolean): Tracer {
  if (!enabled) return TRACE_OFF; // one shared object: 10,000 idle sessions need no tracer each
  const redactor = new Redactor(protocol);
  const emit = (dir: TraceDirection, raw: string | Buffer) => {
    const line = clean(typeof raw === 'string' ? raw : raw.toString('utf8'));
    logger.info({ dir, line: clip(redactor.redact(dir, line)) }, 'trace');
  };
  return {
    enabled,
    client: (line) => emit('C', line),
    server: (line) => emit('S', line),
    expectSecretContinuation: () => redactor.expectSecretContinuation(),
  };
}

function clean(line: string): string {
  return line.replace(/\r?\n$/, '');
}

function clip(line: string): string {
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}... (${line.length} chars)` : line;
}
