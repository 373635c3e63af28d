// Message size matrix over SMTP: python smtplib (MX, submission with STARTTLS+AUTH,
// LMTP), swaks (MX, submission), curl (MX, submission) and nodemailer (submission)
// each send 1 KB … 25 MB messages; each is read back byte for byte over IMAP
// (`BODY.PEEK[]`) and POP3 (poplib `RETR`). A client that gets no reply fails its own
// row after deadlineMs() naming client and size (issue 9: smtplib's single write of
// data plus "." got no reply at 400 KB).
//
// Read-back rule: every path delivers the original bytes unchanged after the header
// fields the server prepends (RFC 5321 4.4 trace fields, RFC 8601 results on the MX);
// so the original must be a suffix and the prefix may hold only the fields listed per
// path in ADDED. Nothing is ever added inside or after the original.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import {
  MB,
  REMOTE_SENDER,
  PASSWORD,
  SIZES,
  assertDelivered,
  cellUser,
  HangLedger,
  deadlineMs,
  imapFetchFirst,
  makeMessage,
  pop3RetrFirst,
  pyScript,
  runClient,
  startMatrixServer,
  within,
  type MatrixServer,
  type Size,
} from './matrix.js';

type Port = 'smtp' | 'submission' | 'lmtp';
interface Path {
  client: string;
  port: Port;
  /** The bytes written to the file the client reads, when they differ from the message. */
  file?: (message: Buffer) => Buffer;
  send(port: number, from: string, to: string, file: string, message: Buffer, ms: number, what: string): Promise<void>;
}

const MX_FIELDS = ['return-path', 'authentication-results', 'received-spf', 'received'];
const ADDED: Record<Port, string[]> = { smtp: MX_FIELDS, submission: ['return-path', 'received'], lmtp: ['return-path', 'received'] };

const smtplib = (mode: string): Path['send'] => async (port, from, to, file, _m, ms, what) => {
  const auth = mode === 'submission' ? [to, PASSWORD] : [];
  const out = JSON.parse(await runClient('python3', [pyScript('smtp_send.py'), mode, '127.0.0.1', String(port), from, to, file, ...auth], ms, what)) as { refused: object };
  assert.deepEqual(out.refused, {}, `${what}: refused`);
};

const swaks = (submission: boolean): Path['send'] => async (port, from, to, file, _m, ms, what) => {
  const auth = submission ? ['--tls', '--auth', 'PLAIN', '--auth-user', to, '--auth-password', PASSWORD] : [];
  // --suppress-data: the transcript without the message (swaks would print all 25 MB).
  const out = await runClient('swaks', ['--server', `127.0.0.1:${port}`, '--helo', 'client.test', '--from', from, '--to', to, '--data', `@${file}`, '--suppress-data', '--timeout', '600', ...auth], ms, what);
  assert.match(out, /^<[-~] +250 2\.0\.0 Ok: queued as /m, `${what}: no 250 after the data`);
};

// swaks always ends the data with CRLF "." CRLF, even after a final CRLF of its own, which
// would add an empty line; its file leaves the last CRLF out so the message arrives unchanged.
const swaksFile = (message: Buffer) => message.subarray(0, message.length - 2);

const curl = (submission: boolean): Path['send'] => async (port, from, to, file, _m, ms, what) => {
  const auth = submission ? ['--ssl-reqd', '-k', '--user', `${to}:${PASSWORD}`] : [];
  await runClient('curl', ['-sS', '--max-time', '600', '--url', `smtp://127.0.0.1:${port}/client.test`, '--mail-from', from, '--mail-rcpt', to, '--upload-file', file, ...auth], ms, what);
};

const viaNodemailer: Path['send'] = async (port, from, to, _f, message, ms, what) => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, name: 'client.test', tls: { rejectUnauthorized: false }, auth: { user: to, pass: PASSWORD }, socketTimeout: 600_000 });
  try {
    const info = await within(transport.sendMail({ envelope: { from, to: [to] }, raw: message }), ms, what, () => transport.close());
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as /, what);
  } finally {
    transport.close();
  }
};

const PATHS: Path[] = [
  { client: 'smtplib-mx', port: 'smtp', send: smtplib('mx') },
  { client: 'smtplib-submission', port: 'submission', send: smtplib('submission') },
  { client: 'smtplib-lmtp', port: 'lmtp', send: smtplib('lmtp') },
  { client: 'swaks-mx', port: 'smtp', file: swaksFile, send: swaks(false) },
  { client: 'swaks-submission', port: 'submission', file: swaksFile, send: swaks(true) },
  { client: 'curl-mx', port: 'smtp', send: curl(false) },
  { client: 'curl-submission', port: 'submission', send: curl(true) },
  { client: 'nodemailer-submission', port: 'submission', send: viaNodemailer },
];

// 25 MB rows cost ~13 s each on the shared 2-core machine (send, IMAP and POP3 read-back);
// all eight would take the file past ~4 minutes, so 25 MB goes through one client per
// kind of writer: smtplib (MX and submission: one write), swaks and curl (MX).
const AT_25MB = ['smtplib-mx', 'smtplib-submission', 'swaks-mx', 'curl-mx'];

describe('SMTP size matrix: real clients, byte-exact read-back over IMAP and POP3', () => {
  let m: MatrixServer;
  const ledger = new HangLedger();
  before(async () => {
    m = await startMatrixServer(SIZES.flatMap((s) => PATHS.map((p) => cellUser(p.client, s))));
  });
  after(() => m?.stop());

  for (const size of SIZES) {
    for (const path of PATHS.filter((p) => size.bytes < 25 * MB || AT_25MB.includes(p.client))) {
      const what = `${path.client} ${size.label}`;
      it(what, { timeout: 4 * deadlineMs(size) }, () => ledger.run(path.client, what, () => sendAndReadBack(m, path, size, what)));
    }
  }
});

async function sendAndReadBack(m: MatrixServer, path: Path, size: Size, what: string): Promise<void> {
  const user = cellUser(path.client, size);
  // The MX and LMTP receive from outside; submission sends from the user's own address.
  const from = path.port === 'submission' ? user : REMOTE_SENDER;
  const message = makeMessage(`${path.client}-${size.label}`, size, from, user);
  const file = join(m.dir, `${path.client}-${size.label}.eml`);
  writeFileSync(file, path.file ? path.file(message) : message);
  const ms = deadlineMs(size);
  await path.send(m.server.ports[path.port]!, from, user, file, message, ms, what);

  const imap = await imapFetchFirst(m.server.ports.imap!, user, ms);
  assert.equal(imap.exists, 1, `${what}: INBOX holds exactly the one message`);
  assertDelivered(imap.raw, message, ADDED[path.port], `${what}, IMAP BODY.PEEK[]`);
  const pop = await pop3RetrFirst(m.server.ports.pop3!, user, m.dir, ms);
  assert.equal(pop.count, 1, `${what}: the maildrop holds exactly the one message`);
  assertDelivered(pop.raw, message, ADDED[path.port], `${what}, POP3 RETR`);
}
