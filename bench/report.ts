/**
 * Turns the JSON results of one `npm run bench` into `bench/results/<date>.md`: one row per
 * figure, Mailroom beside the peer measured in the same run (Dovecot, Postfix → Dovecot
 * LMTP) and their ratio, so a reader compares ratios, not absolute figures from a shared
 * machine. Rows whose peer was not measured say so instead of inventing a ratio.
 */

type Json = Record<string, unknown>;

/** One figure of one workload: where Mailroom's value and the peer's are in the result. */
interface Row {
  /** The row's name; a function when it depends on the run (e.g. its client count). */
  figure: string | ((r: Json) => string);
  unit: string;
  /** Bigger is better (rates); false for latencies. */
  higherIsBetter: boolean;
  ours: (r: Json) => unknown;
  peer?: (r: Json) => unknown;
  peerName?: string;
}

const at = (path: string) => (r: Json): unknown => path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), r);

const ROWS: Record<string, Row[]> = {
  imap: [
    { figure: 'IMAP mix, commands/s', unit: 'cmd/s', higherIsBetter: true, ours: at('mailroom.commandsPerSecond'), peer: at('dovecot.commandsPerSecond'), peerName: 'Dovecot' },
    { figure: (r) => `IMAP mix, ${String(at('runs.1.clients')(r))} clients, commands/s`, unit: 'cmd/s', higherIsBetter: true, ours: at('runs.1.mailroom.commandsPerSecond'), peer: at('runs.1.dovecot.commandsPerSecond'), peerName: 'Dovecot' },
    { figure: (r) => `IMAP mix, ${String(at('clients')(r))} clients, server CPU per command`, unit: 'ms', higherIsBetter: false, ours: at('mailroom.serverCpuMsPerCommand'), peer: at('dovecot.serverCpuMsPerCommand'), peerName: 'Dovecot' },
    { figure: (r) => `IMAP mix, ${String(at('runs.1.clients')(r))} clients, server CPU per command`, unit: 'ms', higherIsBetter: false, ours: at('runs.1.mailroom.serverCpuMsPerCommand'), peer: at('runs.1.dovecot.serverCpuMsPerCommand'), peerName: 'Dovecot' },
  ],
  'cli-startup': [
    { figure: '`mailroom --help`, median wall time', unit: 'ms', higherIsBetter: false, ours: at('help.wallMs.median'), peer: at('nodeBare.wallMs.median'), peerName: '`node -e 0`' },
    { figure: '`mailroom user add`, median wall time', unit: 'ms', higherIsBetter: false, ours: at('user add.wallMs.median'), peer: at('nodeBare.wallMs.median'), peerName: '`node -e 0`' },
    { figure: '`mailroom user list`, median wall time', unit: 'ms', higherIsBetter: false, ours: at('user list.wallMs.median'), peer: at('nodeBare.wallMs.median'), peerName: '`node -e 0`' },
    { figure: '`mailroom --help`, median CPU time (less disturbed by a busy machine)', unit: 'ms', higherIsBetter: false, ours: at('help.cpuMs.median'), peer: at('nodeBare.cpuMs.median'), peerName: '`node -e 0`' },
    { figure: '`mailroom user add`, median CPU time (one scrypt included)', unit: 'ms', higherIsBetter: false, ours: at('user add.cpuMs.median'), peer: at('nodeBare.cpuMs.median'), peerName: '`node -e 0`' },
    { figure: '`mailroom user list`, median CPU time', unit: 'ms', higherIsBetter: false, ours: at('user list.cpuMs.median'), peer: at('nodeBare.cpuMs.median'), peerName: '`node -e 0`' },
    { figure: 'password hash alone (scrypt + SCRAM keys, a security setting; `user add` runs one while it starts)', unit: 'ms', higherIsBetter: false, ours: at('passwordHash.wallMs.median') },
    { figure: '`user add --from-file`, per user', unit: 'ms', higherIsBetter: false, ours: at('fromFile.perUserMs') },
  ],
  pop3: [
    { figure: 'POP3 sessions/s', unit: 'sessions/s', higherIsBetter: true, ours: at('mailroom.sessionsPerSecond'), peer: at('dovecot.sessionsPerSecond'), peerName: 'Dovecot' },
    { figure: 'POP3 MB/s', unit: 'MB/s', higherIsBetter: true, ours: at('mailroom.megabytesPerSecond'), peer: at('dovecot.megabytesPerSecond'), peerName: 'Dovecot' },
  ],
  smtp: [
    { figure: 'SMTP MX accepted', unit: 'msg/s', higherIsBetter: true, ours: at('mailroom.acceptedPerSecond'), peer: at('postfixDovecot.acceptedPerSecond'), peerName: 'Postfix' },
    { figure: 'SMTP MX end to end (in the mailbox)', unit: 'msg/s', higherIsBetter: true, ours: at('mailroom.endToEndPerSecond'), peer: at('postfixDovecot.endToEndPerSecond'), peerName: 'Postfix → Dovecot LMTP' },
    { figure: 'SMTP MX, server CPU per message (until in the mailbox)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.cpuMsPerMessage'), peer: at('postfixDovecot.cpuMsPerMessage'), peerName: 'Postfix → Dovecot LMTP' },
    { figure: 'LMTP accepted (in the mailbox)', unit: 'msg/s', higherIsBetter: true, ours: at('lmtp.mailroom.acceptedPerSecond'), peer: at('lmtp.dovecot.acceptedPerSecond'), peerName: 'Dovecot LMTP' },
  ],
  lmtp: [
    { figure: 'LMTP accepted (in the mailbox), the median round', unit: 'msg/s', higherIsBetter: true, ours: at('mailroom.acceptedPerSecond'), peer: at('dovecot.acceptedPerSecond'), peerName: 'Dovecot LMTP' },
    { figure: 'LMTP, server CPU per message, the median round', unit: 'ms', higherIsBetter: false, ours: at('mailroom.cpuMsPerMessage'), peer: at('dovecot.cpuMsPerMessage'), peerName: 'Dovecot LMTP' },
  ],
  'pg-delivery': [
    { figure: 'LMTP delivery on PostgreSQL, one node (peer column: SQLite)', unit: 'msg/s', higherIsBetter: true, ours: at('postgres1Node.acceptedPerSecond'), peer: at('sqlite.acceptedPerSecond'), peerName: 'Mailroom on SQLite' },
    { figure: 'LMTP delivery on PostgreSQL, two nodes (peer column: one node)', unit: 'msg/s', higherIsBetter: true, ours: at('postgres2Nodes.acceptedPerSecond'), peer: at('postgres1Node.acceptedPerSecond'), peerName: 'one node' },
  ],
  login: [
    { figure: 'IMAP LOGIN, repeated, median', unit: 'ms', higherIsBetter: false, ours: at('mailroom.imap.warm.median'), peer: at('dovecot.imap.warm.median'), peerName: 'Dovecot' },
    { figure: 'IMAP LOGIN, first, median', unit: 'ms', higherIsBetter: false, ours: at('mailroom.imap.cold.median'), peer: at('dovecot.imap.cold.median'), peerName: 'Dovecot' },
    { figure: 'POP3 USER/PASS, repeated, median', unit: 'ms', higherIsBetter: false, ours: at('mailroom.pop3.warm.median'), peer: at('dovecot.pop3.warm.median'), peerName: 'Dovecot' },
  ],
  search: [
    { figure: 'UID SEARCH TEXT rare word, 20,000 messages, warm', unit: 'ms', higherIsBetter: false, ours: at('mailroom.20000.medianMs'), peer: at('dovecot.20000.medianMs'), peerName: 'Dovecot (no FTS)' },
    { figure: 'UID SEARCH TEXT rare word, largest INBOX (see largest.messages), warm', unit: 'ms', higherIsBetter: false, ours: at('largest.mailroomMs'), peer: at('largest.dovecotMs'), peerName: 'Dovecot (no FTS)' },
  ],
  bigbox: [
    { figure: 'big INBOX: LOGIN+SELECT', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.loginSelect'), peer: at('dovecot.ms.loginSelect'), peerName: 'Dovecot' },
    { figure: 'big INBOX: UID FETCH 1:* (FLAGS)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.fetchFlags'), peer: at('dovecot.ms.fetchFlags'), peerName: 'Dovecot' },
    { figure: 'big INBOX: FETCH last 500 (ENVELOPE)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.fetchEnvelopeLast500'), peer: at('dovecot.ms.fetchEnvelopeLast500'), peerName: 'Dovecot' },
    { figure: 'big INBOX: FETCH last 500 (BODYSTRUCTURE)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.fetchBodystructureLast500'), peer: at('dovecot.ms.fetchBodystructureLast500'), peerName: 'Dovecot' },
    { figure: 'big INBOX: FETCH last 500 (header fields)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.fetchHeadersLast500'), peer: at('dovecot.ms.fetchHeadersLast500'), peerName: 'Dovecot' },
    { figure: 'big INBOX: FETCH last 50 (ENVELOPE)', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.fetchEnvelopeLast50'), peer: at('dovecot.ms.fetchEnvelopeLast50'), peerName: 'Dovecot' },
    { figure: 'big INBOX: SEARCH UNSEEN', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.searchUnseen'), peer: at('dovecot.ms.searchUnseen'), peerName: 'Dovecot' },
    { figure: 'big INBOX: SORT (REVERSE DATE) UTF-8 ALL', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.sortReverseDate'), peer: at('dovecot.ms.sortReverseDate'), peerName: 'Dovecot' },
    { figure: 'big INBOX: THREAD REFERENCES UTF-8 ALL', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.threadReferences'), peer: at('dovecot.ms.threadReferences'), peerName: 'Dovecot' },
    { figure: 'big INBOX: first SORT (REVERSE DATE) after a restart', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.sortAfterRestart'), peer: at('dovecot.ms.sortAfterRestart'), peerName: 'Dovecot (new session)' },
    { figure: 'big INBOX: first THREAD REFERENCES after a restart', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.threadAfterRestart'), peer: at('dovecot.ms.threadAfterRestart'), peerName: 'Dovecot (new session)' },
    { figure: 'big INBOX: SEARCH TEXT, a word in few messages', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.searchTextRare'), peer: at('dovecot.ms.searchTextRare'), peerName: 'Dovecot (no FTS)' },
    { figure: 'big INBOX: SEARCH TEXT, a word in none', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.searchTextAbsent'), peer: at('dovecot.ms.searchTextAbsent'), peerName: 'Dovecot (no FTS)' },
    { figure: 'big INBOX: STATUS', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.status'), peer: at('dovecot.ms.status'), peerName: 'Dovecot' },
    { figure: 'big INBOX: reconnect, SELECT (QRESYNC) with nothing changed', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.qresyncSelect'), peer: at('dovecot.ms.qresyncSelect'), peerName: 'Dovecot' },
    { figure: 'big INBOX: STATUS after a delivery', unit: 'ms', higherIsBetter: false, ours: at('mailroom.ms.statusAfterDelivery'), peer: at('dovecot.ms.statusAfterDelivery'), peerName: 'Dovecot' },
  ],
  idle: [
    { figure: 'IDLE sessions: PSS per session', unit: 'KiB', higherIsBetter: false, ours: at('mailroom.pssPerSessionKiB'), peer: at('dovecot.pssPerSessionKiB'), peerName: 'Dovecot (fewer sessions)' },
    { figure: 'IDLE sessions: server RSS with all of them, idle', unit: 'MiB', higherIsBetter: false, ours: at('mailroom.rssWithSessionsMiB') },
    { figure: 'IDLE sessions: server RSS 3 s after the last opened', unit: 'MiB', higherIsBetter: false, ours: at('mailroom.rssOpenedMiB') },
    { figure: 'IDLE sessions: new mail announced on all', unit: 'ms', higherIsBetter: false, ours: at('mailroom.pushAllMs'), peer: at('dovecot.pushAllMs'), peerName: 'Dovecot (fewer sessions)' },
  ],
  deliver: [{ figure: 'deliver() into SQLite', unit: 'msg/s', higherIsBetter: true, ours: at('messagesPerSecond') }],
  queue: [{ figure: 'outbound queue delivered', unit: 'msg/s', higherIsBetter: true, ours: at('deliveredPerSecond') }],
  store: [
    { figure: 'delivery on SQLite', unit: 'msg/s', higherIsBetter: true, ours: at('deliverSqlite.messagesPerSecond') },
    { figure: 'delivery on PostgreSQL (peer column: SQLite)', unit: 'msg/s', higherIsBetter: true, ours: at('deliverPostgres.messagesPerSecond'), peer: at('deliverSqlite.messagesPerSecond'), peerName: 'Mailroom on SQLite' },
    { figure: 'IMAP on PostgreSQL, two nodes (peer column: one node)', unit: 'cmd/s', higherIsBetter: true, ours: at('imapPostgres2Nodes.commandsPerSecond'), peer: at('imapPostgres1Node.commandsPerSecond'), peerName: 'one node' },
  ],
};

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The ratio as "how many times as good as the peer": >1 means Mailroom is ahead, for rates and latencies alike. */
export function ratio(ours: number, peer: number, higherIsBetter: boolean): number | undefined {
  if (ours <= 0 || peer <= 0) return undefined;
  return higherIsBetter ? ours / peer : peer / ours;
}

/**
 * The table rows of an earlier page for workloads not in this run, so running one workload
 * does not erase the day's figures for the others (they keep their own run's machine line
 * in git history; their ratios still compare figures from one run).
 */
function keptRows(previous: string | undefined, results: Record<string, Json>): string[] {
  if (!previous) return [];
  return previous.split('\n').filter((line) => {
    const name = /^\| ([^|]+?) \| /.exec(line)?.[1];
    return name !== undefined && name !== 'workload' && name !== '---' && !(name in results);
  });
}

/**
 * The markdown page for the results of one run (workload name → its JSON result); `previous`
 * (the same day's page so far) gives the rows of the workloads this run did not measure.
 */
export function renderReport(results: Record<string, Json>, when: Date, machine: string, previous?: string): string {
  const kept = keptRows(previous, results);
  const lines = [
    `# Benchmarks ${when.toISOString().slice(0, 10)}`,
    '',
    `${machine}. Each peer was measured in the same run on the same machine; compare the ratios, not the absolute figures.`,
    'Ratio: how many times as good as the peer (above 1: Mailroom ahead; for latencies the peer\'s time divided by ours).',
    '',
    ...(kept.length ? [`Rows of ${[...new Set(kept.map((l) => /^\| ([^|]+?) \| /.exec(l)![1]))].join(', ')} are from an earlier run that day (another machine line).`, ''] : []),
    '| workload | figure | Mailroom | peer | peer value | ratio |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, result] of Object.entries(results)) {
    const rows = ROWS[name];
    if (!rows) {
      lines.push(`| ${name} | see bench/results/${name}.json | | | | |`);
      continue;
    }
    for (const row of rows) {
      const ours = num(row.ours(result));
      const peer = row.peer ? num(row.peer(result)) : undefined;
      const r = ours !== undefined && peer !== undefined ? ratio(ours, peer, row.higherIsBetter) : undefined;
      const peerCell = row.peer ? (peer === undefined ? 'not measured in this run' : `${peer} ${row.unit}`) : '(none)';
      lines.push(`| ${name} | ${typeof row.figure === 'string' ? row.figure : row.figure(result)} | ${ours === undefined ? 'n/a' : `${ours} ${row.unit}`} | ${row.peerName ?? ''} | ${peerCell} | ${r === undefined ? '' : r.toFixed(2)} |`);
    }
  }
  lines.push(...kept);
  return lines.join('\n') + '\n';
}
