/**
 * The configuration schema: the single source of truth for every key, its type,
 * default, environment variable and description, as plain data. Three readers: the
 * loader's validator (validate.ts), the zod schema built from the same data
 * (zod-schema.ts: the reference the validator is tested against, and the one that words
 * errors), and the generated reference (docs/config.md, from gen-docs.ts).
 *
 * Plain data rather than zod calls so that a command that only reads the config (most
 * CLI commands) loads no zod: its ~95 files were a third of a `user list` (issue 15).
 *
 * Never imports: the store, the network, protocols, zod. Config is a leaf.
 * Invariants: every leaf key has its env name; env names are `MAILROOM_` + section + key
 * in upper snake case, except the listener and top-level names fixed by DESIGN.md
 * (MAILROOM_IMAP, MAILROOM_DATA…).
 */
import { hostname as osHostname } from 'node:os';

/** How an environment string is turned into a value before validation. */
export type EnvKind = 'string' | 'int' | 'bool';

/** What the docs and the loader know about one leaf key. */
export interface KeyInfo {
  env: string;
  description: string;
  /** Used in error messages: `expected <expected>, got …`. */
  expected: string;
  kind: EnvKind;
  /** Shown in the docs when the default is computed at run time. */
  docDefault?: string;
}

/** A key's metadata as written in its spec (the env kind follows from the type). */
type SpecInfo = Omit<KeyInfo, 'kind'>;

/** A string; `default` may be computed (when the key is missing). */
export interface StringSpec extends SpecInfo {
  type: 'string';
  default: string | (() => string);
  minLength?: number;
  pattern?: RegExp;
}
/** An integer (a safe one) from `min` to `max`. */
export interface IntSpec extends SpecInfo {
  type: 'int';
  default: number;
  min: number;
  max: number;
}
export interface BoolSpec extends SpecInfo {
  type: 'bool';
  default: boolean;
}
export interface EnumSpec<V extends string = string> extends SpecInfo {
  type: 'enum';
  values: readonly V[];
  default: V;
}
/** `host:port` or `off`, parsed to a ListenAddress; the default is text, parsed like a configured value. */
export interface ListenSpec extends SpecInfo {
  type: 'listen';
  default: string;
}
export type KeySpec = StringSpec | IntSpec | BoolSpec | EnumSpec | ListenSpec;

/** The value a spec yields once validated. */
export type SpecValue<S> = S extends IntSpec ? number : S extends BoolSpec ? boolean : S extends EnumSpec<infer V> ? V : S extends ListenSpec ? ListenAddress | 'off' : string;

/** Keeps the literal types (enum values) of a spec written inline. */
function key<const S extends KeySpec>(spec: S): S {
  return spec;
}

/** A bound or to-be-bound TCP address. IPv6 hosts are stored without brackets. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:143`); null when malformed. */
export function parseListenAddress(text: string): ListenAddress | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && !m[1].includes(':')) return null;
  return { host, port };
}

/** Formats an address the way the config accepts it back. */
export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export const LISTEN_EXPECTED = 'host:port or "off"';

function listenKey(env: string, port: number, description: string): ListenSpec {
  return { type: 'listen', default: `127.0.0.1:${port}`, env, description, expected: LISTEN_EXPECTED };
}

function stringKey(env: string, fallback: string, description: string): StringSpec {
  return { type: 'string', default: fallback, env, description, expected: 'a string' };
}

function intKey(env: string, fallback: number, min: number, description: string): IntSpec {
  return { type: 'int', default: fallback, min, max: Number.MAX_SAFE_INTEGER, env, description, expected: `an integer >= ${min}` };
}

function boolKey(env: string, fallback: boolean, description: string): BoolSpec {
  return { type: 'bool', default: fallback, env, description, expected: 'true or false (env: true/false/1/0)' };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Top-level keys. */
export const topKeys = {
  data: key({
    type: 'string',
    minLength: 1,
    default: './data',
    env: 'MAILROOM_DATA',
    description: 'Directory for the SQLite database, message blobs and the self-signed certificate. Relative paths are resolved from the working directory.',
    expected: 'a directory path',
  }),
  database_url: stringKey('MAILROOM_DATABASE_URL', '', 'Empty for the embedded SQLite store under `data`; `postgres://user:pass@host/db` selects PostgreSQL.'),
  hostname: key({
    type: 'string',
    minLength: 1,
    default: () => osHostname(),
    env: 'MAILROOM_HOSTNAME',
    description: 'The name this server announces in greetings and puts in the self-signed certificate.',
    expected: 'a host name',
    docDefault: 'the machine host name (os.hostname())',
  }),
  user: stringKey('MAILROOM_USER', '', 'Started as root: after binding the listeners, switch to this user (name or uid); the data directory is handed to it first. Empty: keep running as started (a warning when that is root). If set and the switch fails, the server does not start. Certificate files must stay readable by this user for reloads.'),
  group: stringKey('MAILROOM_GROUP', '', 'Group (name or gid) to switch to with `user`. Empty: the user\'s primary group.'),
};

/** Listener addresses, each `host:port` or `off`. The env names are a contract (DESIGN.md). */
export const listenKeys = {
  imap: listenKey('MAILROOM_IMAP', 1143, 'IMAP with STARTTLS (standard port 143).'),
  imaps: listenKey('MAILROOM_IMAPS', 1993, 'IMAP over implicit TLS (standard port 993).'),
  pop3: listenKey('MAILROOM_POP3', 1110, 'POP3 with STLS (standard port 110).'),
  pop3s: listenKey('MAILROOM_POP3S', 1995, 'POP3 over implicit TLS (standard port 995).'),
  smtp: listenKey('MAILROOM_SMTP', 2525, 'Inbound SMTP from other servers, the MX (standard port 25).'),
  submission: listenKey('MAILROOM_SUBMISSION', 1587, 'Authenticated submission with STARTTLS (standard port 587).'),
  submissions: listenKey('MAILROOM_SUBMISSIONS', 1465, 'Authenticated submission over implicit TLS (standard port 465).'),
  lmtp: listenKey('MAILROOM_LMTP', 2424, 'LMTP for delivery from a local MTA (no standard port; keep it on loopback).'),
  http: listenKey('MAILROOM_HTTP', 8080, 'HTTP: health check (`GET /healthz`), client autoconfiguration (Thunderbird, Outlook Autodiscover, Apple profiles), the MTA-STS policy and the admin page (`/admin`, served only over loopback or TLS); put a TLS reverse proxy in front of it (see README, Client autoconfiguration).'),
};

export const tlsKeys = {
  cert: stringKey('MAILROOM_TLS_CERT', '', 'PEM certificate chain file. Empty: a self-signed certificate is made on first start under `<data>/tls/`.'),
  key: stringKey('MAILROOM_TLS_KEY', '', 'PEM private key file for `cert`. Set both or neither.'),
  ciphers: stringKey(
    'MAILROOM_TLS_CIPHERS',
    'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305',
    'Cipher suites the listeners accept, in OpenSSL syntax (TLS 1.3 names included). Default: Mozilla\'s "intermediate" list (forward secrecy and AEAD only; no CBC or SHA-1 suites), TLS 1.2 and newer.',
  ),
};

export const limitsKeys = {
  connections_per_ip: intKey('MAILROOM_LIMITS_CONNECTIONS_PER_IP', 50, 1, 'Open connections allowed from one IP address (an IPv6 client: its /64), counted across all listeners from the moment TCP connects (TLS handshakes included); more are refused politely.'),
  connections_total: intKey('MAILROOM_LIMITS_CONNECTIONS_TOTAL', 20000, 1, 'Open connections allowed at once over all mail listeners (TLS handshakes included); more are refused. The HTTP listener is not counted, so health checks still answer. Keep it below the process file-descriptor limit (`ulimit -n`).'),
  line_timeout_s: intKey('MAILROOM_LIMITS_LINE_TIMEOUT_S', 60, 1, 'Slowloris bound, every mail protocol: a command line must be complete this many seconds after its first byte, however steadily the bytes trickle in (the idle timeouts reset on each byte); else the connection is closed as on an idle timeout.'),
  payload_timeout_s: intKey('MAILROOM_LIMITS_PAYLOAD_TIMEOUT_S', 900, 1, 'Slowloris bound: an IMAP literal (APPEND) or an SMTP/LMTP message body (DATA, each BDAT chunk) must arrive within this many seconds (900 s is 50 MiB at ~57 KB/s).'),
  login_timeout_s: intKey('MAILROOM_LIMITS_LOGIN_TIMEOUT_S', 120, 1, 'IMAP, POP3 and submission: a client must have logged in this many seconds after it connected, else the connection is closed.'),
  tls_handshake_timeout_s: intKey('MAILROOM_LIMITS_TLS_HANDSHAKE_TIMEOUT_S', 30, 1, 'A TLS handshake (implicit TLS or STARTTLS/STLS) must be done within this many seconds, else the socket is destroyed.'),
  http_request_timeout_s: intKey('MAILROOM_LIMITS_HTTP_REQUEST_TIMEOUT_S', 10, 1, 'HTTP: a request\'s headers must have arrived this many seconds after the connection opened or the previous response ended (keep-alive idle included), else the socket is destroyed.'),
  shutdown_timeout_ms: intKey('MAILROOM_LIMITS_SHUTDOWN_TIMEOUT_MS', 10000, 0, 'On SIGTERM/SIGINT, how long open sessions may finish before they are cut.'),
};

export const logKeys = {
  level: key({
    type: 'enum',
    values: LOG_LEVELS,
    default: 'info',
    env: 'MAILROOM_LOG_LEVEL',
    description: 'Log level of the lines written to stdout.',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
  }),
  format: key({
    type: 'enum',
    values: ['auto', 'json', 'pretty'],
    default: 'auto',
    env: 'MAILROOM_LOG_FORMAT',
    description: '`json`: one JSON object per line (for journald, Loki, files). `pretty`: one readable line per event (time, level, where, message, key=value). `auto`: pretty when stdout is a terminal, else JSON.',
    expected: 'one of auto, json, pretty',
  }),
  trace: boolKey('MAILROOM_LOG_TRACE', false, 'Log every protocol line (passwords and SASL exchanges redacted). For debugging clients.'),
};

export const deliveryKeys = {
  large_part_threshold: intKey('MAILROOM_LARGE_PART_THRESHOLD', 65536, 0, 'MIME parts at least this many bytes are stored once as separate blobs (deduplicated across messages).'),
};

/** The store: PostgreSQL (when `database_url` names one) and several nodes on one database; how `serve` hosts SQLite. */
export const databaseKeys = {
  pool_size: intKey('MAILROOM_DATABASE_POOL_SIZE', 10, 1, 'PostgreSQL: connections this node keeps open at most (plus one for LISTEN).'),
  statement_timeout_ms: intKey('MAILROOM_DATABASE_STATEMENT_TIMEOUT_MS', 30000, 100, 'PostgreSQL: a statement running longer is cancelled and the client gets a temporary failure.'),
  connect_timeout_ms: intKey('MAILROOM_DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 'PostgreSQL: how long to wait for a connection (e.g. while the database restarts) before answering with a temporary failure.'),
  sqlite_worker: boolKey('MAILROOM_DATABASE_SQLITE_WORKER', true, 'SQLite, `mailroom serve`: run the store in a worker thread, so commits (each waits for an fsync) never stall other sessions. `false` runs it on the main thread, for debugging.'),
  change_poll_ms: intKey('MAILROOM_DATABASE_CHANGE_POLL_MS', 250, 20, 'SQLite, `mailroom serve`: how often one timer per process checks whether another process (CLI commands, a second server on the same data directory) committed; if so, IDLE sessions re-check their mailbox.'),
  blob_dir: stringKey('MAILROOM_DATABASE_BLOB_DIR', '', 'PostgreSQL: empty keeps message bytes in the database (shared by every node); a directory path keeps them there instead (every node must mount the same directory).'),
};

/** PROXY protocol v1/v2 (HAProxy) in front of listeners, so client IPs stay visible. */
export const proxyKeys = {
  listeners: stringKey('MAILROOM_PROXY_LISTENERS', '', 'Comma-separated listener names (e.g. `imap,imaps,pop3,smtp`) that expect a PROXY protocol v1 or v2 header first. Empty: none.'),
  trusted: stringKey('MAILROOM_PROXY_TRUSTED', '127.0.0.1/32,::1/128', 'Comma-separated networks (CIDR) allowed to send PROXY headers; connections from elsewhere on a PROXY listener are refused.'),
};

export const imapKeys = {
  max_line_length: intKey('MAILROOM_IMAP_MAX_LINE_LENGTH', 65536, 8192, 'Longest IMAP command text in bytes, literals excluded (RFC 9051 suggests at least 8000).'),
  max_literal_size: intKey('MAILROOM_IMAP_MAX_LITERAL_SIZE', 64 * 1024 * 1024, 1024, 'Largest literal and APPEND message in bytes; advertised as APPENDLIMIT.'),
  max_bad_commands: intKey('MAILROOM_IMAP_MAX_BAD_COMMANDS', 20, 1, 'Syntax errors in a row after which the connection is closed with BYE.'),
  idle_timeout_s: intKey('MAILROOM_IMAP_IDLE_TIMEOUT_S', 1800, 1800, 'Seconds of silence after which an authenticated session is closed (RFC 9051 5.4: at least 30 minutes).'),
  preauth_timeout_s: intKey('MAILROOM_IMAP_PREAUTH_TIMEOUT_S', 60, 5, 'Seconds of silence after which a session that has not logged in is closed.'),
  search_timeout_ms: intKey('MAILROOM_IMAP_SEARCH_TIMEOUT_MS', 10000, 100, 'How long one SEARCH, SORT or THREAD may run (wall time, store lookups included) before it ends with `NO [LIMIT]`; long ones also yield to other sessions every few milliseconds.'),
  idle_poll_ms: intKey('MAILROOM_IMAP_IDLE_POLL_MS', 60000, 30000, 'Safety net: during IDLE, how often a session re-checks its mailbox without being told. Changes arrive on the change bus at once (this process), through `database.change_poll_ms` (other processes on SQLite) or LISTEN/NOTIFY (PostgreSQL); this only bounds the delay of a lost notification.'),
  inprogress_ms: intKey('MAILROOM_IMAP_INPROGRESS_MS', 2000, 0, 'While a SEARCH, SORT, THREAD, COPY or MOVE runs, how often (milliseconds) to send `* OK [INPROGRESS ("tag" done total)]` (RFC 9585) so clients and middleboxes see it is alive. 0: never.'),
  metadata_max_size: key({
    type: 'int',
    min: 1,
    max: 65536,
    default: 65536,
    env: 'MAILROOM_IMAP_METADATA_MAX_SIZE',
    description: 'Largest METADATA value in bytes (RFC 5464): SETMETADATA with a bigger one gets `NO [METADATA MAXSIZE n]`. At most 64 KiB, the size above which a literal is spooled to disk.',
    expected: 'an integer from 1 to 65536',
  }),
  metadata_max_entries: intKey('MAILROOM_IMAP_METADATA_MAX_ENTRIES', 200, 1, 'Most METADATA entries one login sees on one mailbox or on the server (its /private ones plus the /shared ones); SETMETADATA beyond gets `NO [METADATA TOOMANY]`.'),
  metadata_admin: stringKey('MAILROOM_IMAP_METADATA_ADMIN', '', 'The server entry /shared/admin (RFC 5464 3.2.1.1): how to reach the administrator, e.g. `mailto:postmaster@example.org`. Read-only over IMAP; empty: no such entry.'),
};

/** Login rules shared by IMAP, POP3 and submission. */
export const authKeys = {
  allow_plaintext: key({
    type: 'enum',
    values: ['never', 'loopback', 'always'],
    default: 'loopback',
    env: 'MAILROOM_AUTH_ALLOW_PLAINTEXT',
    description: 'When passwords may be sent without TLS (IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS/AUTH, …): `never`, `loopback` (only from 127.0.0.0/8 and ::1) or `always`. Otherwise clients must use STARTTLS/STLS or the implicit-TLS port first.',
    expected: 'one of never, loopback, always',
  }),
  cache_size: intKey('MAILROOM_AUTH_CACHE_SIZE', 10000, 0, 'Successful logins remembered (as an HMAC with a per-process secret, never the password) so that logging in again with the same password costs no new scrypt; the least recently used are dropped first. 0 turns the cache off. Wrong passwords are never cached.'),
  cache_ttl_s: intKey('MAILROOM_AUTH_CACHE_TTL_S', 300, 0, 'Seconds a remembered login stays valid (counted from the verification, not the last use). A changed password takes effect at once regardless. 0 turns the cache off.'),
  new_login_notice: boolKey('MAILROOM_AUTH_NEW_LOGIN_NOTICE', true, 'Send an account a short notice into its INBOX when it logs in from a device password used for the first time, or with the account password from a client address it never used before (IPv6: its /64). The account\'s very first login sends none. Per user: `mailroom user set ADDRESS new_login_notice=off|on`.'),
  hash_workers: key({
    type: 'int',
    min: 1,
    max: 4,
    default: 2,
    env: 'MAILROOM_AUTH_HASH_WORKERS',
    description: 'Threads that compute password hashes (scrypt, 32 MiB each), apart from the threads that do file I/O. 2 get through a burst of first logins (e.g. after a restart) sooner than 1 on a machine with two or more cores; more gain little, since with the login cache only new and wrong passwords cost a hash.',
    expected: 'an integer from 1 to 4',
  }),
  hash_queue: intKey('MAILROOM_AUTH_HASH_QUEUE', 64, 1, 'Logins that may wait for a hash thread; when more arrive at once, the extra ones get a temporary failure (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], SMTP 454 4.7.0) and clients retry.'),
};

/** POP3 (src/pop3/): defaults of the per-user policies (`mailroom user set <user> pop3.deleteMode=hide` overrides one user) and limits. */
export const pop3Keys = {
  delete_mode: key({
    type: 'enum',
    values: ['expunge', 'hide'],
    default: 'expunge',
    env: 'MAILROOM_POP3_DELETE_MODE',
    description: 'What DELE does at QUIT: `expunge` removes the message from INBOX for every client (RFC 1939); `hide` only hides it from POP3 (flag `$POP3Deleted`), IMAP devices keep it. Per user: `pop3.deleteMode`.',
    expected: 'one of expunge, hide',
  }),
  mark_seen: boolKey('MAILROOM_POP3_MARK_SEEN', true, 'Whether RETR sets \\Seen, so IMAP devices show the message as read. Per user: `pop3.markSeen`.'),
  keep_days: key({
    type: 'string',
    pattern: /^(never|\d{1,5})$/,
    default: 'never',
    env: 'MAILROOM_POP3_KEEP_DAYS',
    description: 'Leave-on-server retention for POP3, advertised as `EXPIRE n`: at the end of each POP3 session (QUIT), INBOX messages received more than n days ago are removed (with the delete mode). `never` keeps them. Per user: `pop3.keepDays`.',
    expected: '"never" or a number of days (0-99999)',
  }),
  login_delay_s: intKey('MAILROOM_POP3_LOGIN_DELAY_S', 0, 0, 'Minimum seconds between two POP3 logins of one user, advertised as `LOGIN-DELAY n` and enforced (`-ERR [LOGIN-DELAY]`). Per user: `pop3.loginDelay`.'),
  max_errors: intKey('MAILROOM_POP3_MAX_ERRORS', 10, 1, 'Errors (unknown commands, bad arguments, failed logins) in one session after which it is closed.'),
  idle_timeout_s: intKey('MAILROOM_POP3_IDLE_TIMEOUT_S', 600, 600, 'Seconds of silence after which a session is closed without UPDATE (RFC 1939 3: at least 10 minutes).'),
};

/** Inbound SMTP, submission and LMTP (src/smtp/). */
export const smtpKeys = {
  max_message_size: intKey('MAILROOM_SMTP_MAX_MESSAGE_SIZE', 52428800, 1024, 'Largest message accepted over SMTP, submission and LMTP, in bytes (advertised as SIZE, checked at MAIL FROM and while the data arrives).'),
  max_recipients: intKey('MAILROOM_SMTP_MAX_RECIPIENTS', 100, 1, 'Recipients accepted per message (advertised as LIMITS RCPTMAX); more get 452 4.5.3.'),
  max_errors: intKey('MAILROOM_SMTP_MAX_ERRORS', 20, 1, 'Error replies in one session after which the server says 421 4.7.0 and closes (as Postfix\'s smtpd_hard_error_limit; unknown recipients count too).'),
  timeout_ms: intKey('MAILROOM_SMTP_TIMEOUT_MS', 300000, 1000, 'How long the server waits for a command or for more message data before it says 421 and closes (RFC 5321 4.5.3.2 asks for at least 5 minutes).'),
  dns_file: stringKey('MAILROOM_SMTP_DNS_FILE', '', 'Empty: SPF/DKIM/DMARC/ARC checks and `mailroom dns --check` ask the system resolver. A JSON file `{ "name": { "TXT": [["v=spf1 …"]], "A": ["192.0.2.1"] } }` answers instead (tests, offline use), in node:dns shapes (MX `[{"exchange","priority"}]`, SRV `[{"name","port","priority","weight"}]`, CNAME `["host"]`).'),
  resend_window_s: intKey('MAILROOM_SMTP_RESEND_WINDOW_S', 300, 0, 'A message re-sent within this many seconds with the same Message-ID by the same sender (submission: the logged-in user; MX/LMTP: client IP, MAIL FROM and recipients) is answered 250 again but stored once: the client did not see the first 250. The same window applies to IMAP APPEND of the same bytes with the same Message-ID by the same user to the same mailbox (answered with the first UID). 0 turns this off.'),
  local_sender_policy: key({
    type: 'enum',
    values: ['reject', 'junk'],
    default: 'reject',
    env: 'MAILROOM_SMTP_LOCAL_SENDER_POLICY',
    description: 'MX: a message from outside that claims one of our domains (MAIL FROM or header From) without passing SPF, DKIM or DMARC for it: `reject` (`550 5.7.1` after the data) or `junk` (accepted and filed into each recipient\'s Junk mailbox, not forwarded).',
    expected: 'one of reject, junk',
  }),
  sent_copies: boolKey('MAILROOM_SMTP_SENT_COPIES', true, 'Store every message a user submits in their \\Sent mailbox. Per user: `mailroom user set ADDRESS sent.copy=off|on`.'),
};

/** The outbound queue (src/smtp/queue/): retries, bounces, and an optional smarthost. */
export const queueKeys = {
  concurrency: intKey('MAILROOM_QUEUE_CONCURRENCY', 4, 1, 'Destinations (domains, or the smarthost) delivered to at the same time; messages to one destination share one connection.'),
  retry_initial_s: intKey('MAILROOM_QUEUE_RETRY_INITIAL_S', 300, 1, 'Seconds before the first retry after a temporary failure (4xx, no connection); each later retry waits twice as long.'),
  retry_max_s: intKey('MAILROOM_QUEUE_RETRY_MAX_S', 14400, 1, 'Longest wait between two retries, in seconds (the doubling stops here).'),
  max_age_s: intKey('MAILROOM_QUEUE_MAX_AGE_S', 432000, 1, 'Seconds a message may stay queued (default 5 days); then its pending recipients are bounced with a DSN (4.4.7).'),
  delay_notify_after_s: intKey('MAILROOM_QUEUE_DELAY_NOTIFY_AFTER_S', 14400, 0, 'Seconds after which the sender gets one "delayed" DSN for recipients still pending (0 = never).'),
  poll_ms: intKey('MAILROOM_QUEUE_POLL_MS', 5000, 50, 'How often the queue is checked for due messages (messages queued by this process start at once).'),
  lease_s: intKey('MAILROOM_QUEUE_LEASE_S', 900, 10, 'How long a worker owns a message it took; after a crash the message is retried when this expires. Must exceed the longest delivery.'),
  connect_timeout_ms: intKey('MAILROOM_QUEUE_CONNECT_TIMEOUT_MS', 30000, 100, 'Time allowed to connect to a remote server and for each reply (RFC 5321 4.5.3.2 suggests minutes for DATA; nodemailer applies this per command).'),
  remote_port: intKey('MAILROOM_QUEUE_REMOTE_PORT', 25, 1, 'Port of remote MX servers (25; change only for tests).'),
  routes: stringKey('MAILROOM_QUEUE_ROUTES', '', 'Static routes skipping MX lookup, like Postfix transport maps: `domain=host:port,other.test=[::1]:2525`.'),
  smarthost: stringKey('MAILROOM_QUEUE_SMARTHOST', '', 'Empty: deliver directly to each domain\'s MX. `host:port`: relay all outgoing mail through this server (home installations).'),
  smarthost_tls: key({
    type: 'enum',
    values: ['none', 'starttls', 'implicit'],
    default: 'starttls',
    env: 'MAILROOM_QUEUE_SMARTHOST_TLS',
    description: 'TLS to the smarthost: `starttls` (required, certificate verified), `implicit` (TLS from the first byte, port 465) or `none`.',
    expected: 'one of none, starttls, implicit',
  }),
  smarthost_user: stringKey('MAILROOM_QUEUE_SMARTHOST_USER', '', 'User name for AUTH at the smarthost (empty: no AUTH).'),
  smarthost_password: stringKey('MAILROOM_QUEUE_SMARTHOST_PASSWORD', '', 'Password for AUTH at the smarthost.'),
  smarthost_tls_verify: boolKey('MAILROOM_QUEUE_SMARTHOST_TLS_VERIFY', true, 'Verify the smarthost certificate (turn off only for a self-signed relay you control).'),
};

/** Recently Deleted (src/store/core/deleted.ts, src/mail/recently-deleted.ts): expunged mail kept for a while. */
export const retentionKeys = {
  deleted_days: intKey('MAILROOM_RETENTION_DELETED_DAYS', 30, 0, 'Days an expunged message (IMAP EXPUNGE/CLOSE, POP3 DELE, a deleted mailbox, any client) is kept in the user\'s read-only "Recently Deleted" mailbox, from which moving or copying it restores it; then it is purged. 0 keeps nothing new (what is already kept is purged).'),
  deleted_counts_quota: boolKey('MAILROOM_RETENTION_DELETED_COUNTS_QUOTA', false, 'Whether kept deleted mail still counts against the user\'s quota (false: deleting frees the space at once).'),
  deleted_mailbox: stringKey('MAILROOM_RETENTION_DELETED_MAILBOX', 'Recently Deleted', 'Name given to a user\'s Recently Deleted mailbox when it is made (at the first kept deletion); a top-level name. Existing ones keep their name.'),
  purge_interval_s: intKey('MAILROOM_RETENTION_PURGE_INTERVAL_S', 3600, 1, 'How often the purge of kept deleted mail runs. One node at a time runs it (a lease in the store); running it on several nodes at once is safe too.'),
  quota_check_interval_s: intKey('MAILROOM_RETENTION_QUOTA_CHECK_INTERVAL_S', 86400, 1, 'How often the server recounts every user\'s quota usage from the messages and repairs counters that drifted (as `mailroom quota check --fix`). One node at a time (a lease in the store).'),
};

/** Sections in document order; '' is the top level. The loader and the docs walk this. */
export const sections = {
  '': topKeys,
  listen: listenKeys,
  tls: tlsKeys,
  limits: limitsKeys,
  log: logKeys,
  delivery: deliveryKeys,
  database: databaseKeys,
  proxy: proxyKeys,
  auth: authKeys,
  pop3: pop3Keys,
  imap: imapKeys,
  smtp: smtpKeys,
  queue: queueKeys,
  retention: retentionKeys,
} as const;

type SectionValues<T> = { -readonly [K in keyof T]: SpecValue<T[K]> };

/** The validated configuration every module receives. */
export type Config = SectionValues<typeof topKeys> & { -readonly [S in Exclude<keyof typeof sections, ''>]: SectionValues<(typeof sections)[S]> };

/** Names of the listeners, in config order. */
export type ListenerName = keyof typeof listenKeys;
export const LISTENER_NAMES = Object.keys(listenKeys) as ListenerName[];

/** Dotted key names (`data`, `listen.imap`, `limits.connections_per_ip`…). */
export interface LeafKey {
  path: string;
  section: string;
  key: string;
  spec: KeySpec;
  info: KeyInfo;
}

/** Every leaf key with its metadata, in document order. */
export function leafKeys(): LeafKey[] {
  const out: LeafKey[] = [];
  for (const [section, keys] of Object.entries(sections)) {
    for (const [key, spec] of Object.entries(keys) as [string, KeySpec][]) {
      const { env, description, expected, docDefault } = spec;
      const kind: EnvKind = spec.type === 'int' || spec.type === 'bool' ? spec.type : 'string';
      out.push({ path: section ? `${section}.${key}` : key, section, key, spec, info: { env, description, expected, kind, docDefault } });
    }
  }
  return out;
}
