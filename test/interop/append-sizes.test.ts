// Message size matrix over IMAP APPEND: python imaplib, imapflow, and a raw client
// that sends the literal, pauses, then the closing CRLF in a write of its own, with a
// synchronizing `{n}` and a non-synchronizing `{n+}` literal (RFC 7888). Each message
// (1 KB … 25 MB) is read back byte for byte over IMAP (`BODY.PEEK[]`) and POP3
// (poplib `RETR`). A hung APPEND fails its row after deadlineMs() naming client and size
// (issue 9: the CRLF after a literal of 100 KB and more, alone in a packet, was never read).
//
// Read-back rule: APPEND stores the literal as it is (RFC 9051 6.3.12), so both
// read-backs must equal the sent bytes exactly; nothing may be added.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import {
  PASSWORD,
  SIZES,
  Wire,
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

interface Client {
  name: string;
  append(m: MatrixServer, user: string, message: Buffer, ms: number, what: string): Promise<void>;
}

const imaplib: Client['append'] = async (m, user, message, ms, what) => {
  const file = join(m.dir, `${user}.eml`);
  writeFileSync(file, message);
  const out = JSON.parse(await runClient('python3', [pyScript('imap_append.py'), '127.0.0.1', String(m.server.ports.imap!), user, PASSWORD, file], ms, what)) as { typ: string; data: string[] };
  assert.equal(out.typ, 'OK', `${what}: ${JSON.stringify(out.data)}`);
};

const imapflow: Client['append'] = async (m, user, message, ms, what) => {
  const client = new ImapFlow({ host: '127.0.0.1', port: m.server.ports.imap!, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  try {
    await within(client.connect(), ms, `${what} (connect)`, () => client.close());
    const res = await within(client.append('INBOX', message), ms, what, () => client.close());
    assert.ok(res && res.uid, `${what}: APPEND answered without APPENDUID: ${JSON.stringify(res, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    await within(client.logout(), ms, `${what} (logout)`, () => client.close());
  } finally {
    client.close();
  }
};

/**
 * The pattern that hung: all of the literal, a pause long enough for the server to
 * read it as a chunk of its own, then CRLF alone. The pause is a packet boundary, not
 * a timing assertion. `plus`: `{n+}` (LITERAL+), command line and literal in one write.
 */
const rawSplitCrlf = (plus: boolean): Client['append'] => async (m, user, message, ms, what) => {
  const w = await Wire.connect(m.server.ports.imap!);
  try {
    await w.line(ms, what);
    await w.write(`a LOGIN "${user}" "${PASSWORD}"\r\n`);
    assert.match((await w.until('a ', ms, what)).at(-1)!, /^a OK/, `${what}: login`);
    if (plus) {
      await w.write(Buffer.concat([Buffer.from(`b APPEND INBOX (\\Seen) {${message.length}+}\r\n`), message]));
    } else {
      await w.write(`b APPEND INBOX (\\Seen) {${message.length}}\r\n`);
      assert.match(await w.line(ms, what), /^\+ /, `${what}: continuation request`); // RFC 9051 7.5
      await w.write(message);
    }
    await sleep(300);
    await w.write('\r\n');
    const done = await w.until('b ', ms, what);
    assert.match(done.at(-1)!, /^b OK \[APPENDUID \d+ \d+\]/, `${what}: ${JSON.stringify(done.join(''))}`);
    await w.write('c LOGOUT\r\n');
  } finally {
    w.close();
  }
};

const CLIENTS: Client[] = [
  { name: 'imaplib', append: imaplib },
  { name: 'imapflow', append: imapflow },
  { name: 'raw-split-crlf-sync', append: rawSplitCrlf(false) },
  { name: 'raw-split-crlf-nonsync', append: rawSplitCrlf(true) },
];

describe('IMAP APPEND size matrix: real clients and a split closing CRLF, byte-exact read-back', () => {
  let m: MatrixServer;
  const ledger = new HangLedger();
  before(async () => {
    m = await startMatrixServer(SIZES.flatMap((s) => CLIENTS.map((c) => cellUser(`append-${c.name}`, s))));
  });
  after(() => m?.stop());

  for (const size of SIZES) {
    for (const client of CLIENTS) {
      const what = `${client.name} ${size.label}`;
      it(what, { timeout: 4 * deadlineMs(size) }, () => ledger.run(client.name, what, () => appendAndReadBack(m, client, size, what)));
    }
  }
});

async function appendAndReadBack(m: MatrixServer, client: Client, size: Size, what: string): Promise<void> {
  const user = cellUser(`append-${client.name}`, size);
  const message = makeMessage(`append-${client.name}-${size.label}`, size, user, user);
  const ms = deadlineMs(size);
  await client.append(m, user, message, ms, what);

  const imap = await imapFetchFirst(m.server.ports.imap!, user, ms);
  assert.equal(imap.exists, 1, `${what}: INBOX holds exactly the one message`);
  assertDelivered(imap.raw, message, [], `${what}, IMAP BODY.PEEK[]`);
  const pop = await pop3RetrFirst(m.server.ports.pop3!, user, m.dir, ms);
  assert.equal(pop.count, 1, `${what}: the maildrop holds exactly the one message`);
  assertDelivered(pop.raw, message, [], `${what}, POP3 RETR`);
}
