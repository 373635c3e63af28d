/**
 * The server the interop tests talk to: Mailroom (the built binary, via the test
 * harness) by default. With IMAP_INTEROP_TARGET=dovecot the same tests run against
 * a private Dovecot instead, to check the TESTS against a reference server (a test
 * that fails there is a test bug, not a Mailroom bug). Never used by CI that way.
 *
 * Every test makes its own user, so tests sharing one server stay independent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../harness/server.js';
import { startDovecot } from '../../bench/dovecot.js';
import { RawImapClient, quoted } from '../../bench/imap-raw-client.js';

export interface ImapTarget {
  name: 'mailroom' | 'dovecot';
  host: string;
  /** Plain IMAP (STARTTLS offered). */
  imapPort: number;
  /** Implicit TLS. */
  imapsPort: number;
  /** Creates a user with INBOX and the special-use mailboxes. */
  addUser(address: string, password: string): Promise<void>;
  /** Delivers a message to the user's INBOX from another process (Mailroom: `mailroom deliver`). */
  deliver(address: string, raw: Buffer | string): Promise<void>;
  stop(): Promise<void>;
}

let userCounter = 0;

/** A fresh address for one test (unique within the run). */
export function freshUser(label: string): { user: string; pass: string } {
  return { user: `${label.toLowerCase().replace(/[^a-z0-9]/g, '')}${++userCounter}@interop.test`, pass: `pw-${label}-${userCounter}` };
}

export async function startTarget(): Promise<ImapTarget> {
  return process.env.IMAP_INTEROP_TARGET === 'dovecot' ? dovecotTarget() : mailroomTarget();
}

async function mailroomTarget(): Promise<ImapTarget> {
  const s = await startServer();
  const tmp = mkdtempSync(join(tmpdir(), 'mailroom-interop-'));
  let n = 0;
  return {
    name: 'mailroom',
    host: '127.0.0.1',
    imapPort: s.ports.imap!,
    imapsPort: s.ports.imaps!,
    async addUser(address, password) {
      const r = await runCli(['user', 'add', address, '--password', password], { dataDir: s.dataDir });
      if (r.code !== 0) throw new Error(`user add ${address}: ${r.stderr.trim()}`);
    },
    async deliver(address, raw) {
      const file = join(tmp, `msg-${++n}.eml`);
      writeFileSync(file, raw);
      const r = await runCli(['deliver', '--to', address, file], { dataDir: s.dataDir });
      if (r.code !== 0) throw new Error(`deliver to ${address}: ${r.stderr.trim()}`);
    },
    async stop() {
      await s.stop();
    },
  };
}

async function dovecotTarget(): Promise<ImapTarget> {
  const d = await startDovecot([], { tls: true });
  const passwords = new Map<string, string>();
  return {
    name: 'dovecot',
    host: '127.0.0.1',
    imapPort: d.port,
    imapsPort: d.tlsPort!,
    async addUser(address, password) {
      d.addUser(address, password);
      passwords.set(address, password);
    },
    async deliver(address, raw) {
      const { client } = await RawImapClient.connect(d.port);
      await client.ok(`LOGIN ${quoted(address)} ${quoted(passwords.get(address)!)}`);
      await client.ok('APPEND INBOX', { literal: Buffer.from(raw) });
      await client.close();
    },
    stop: () => d.stop(),
  };
}

/** A plain RFC 5322 message with CRLF line ends. */
export function message(fields: { from?: string; to?: string; subject: string; date?: string; body?: string; messageId?: string; extra?: string[] }): string {
  const lines = [
    `From: ${fields.from ?? 'Alice Example <alice@example.net>'}`,
    `To: ${fields.to ?? 'Bob <bob@interop.test>'}`,
    `Subject: ${fields.subject}`,
    `Date: ${fields.date ?? 'Tue, 03 Mar 2026 10:00:00 +0100'}`,
    `Message-ID: ${fields.messageId ?? `<${Math.random().toString(36).slice(2)}@example.net>`}`,
    'MIME-Version: 1.0',
    ...(fields.extra ?? ['Content-Type: text/plain; charset=utf-8']),
    '',
    fields.body ?? 'Hello,\r\nthis is a test message.\r\n',
  ];
  return lines.join('\r\n');
}

/** A multipart/mixed message: a text part and a small attachment. */
export function multipartMessage(subject: string): string {
  return message({
    subject,
    extra: ['Content-Type: multipart/mixed; boundary="XyZ"'],
    body: [
      'This is a multi-part message in MIME format.',
      '--XyZ',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The text part.',
      '--XyZ',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 fake pdf content').toString('base64'),
      '--XyZ--',
      '',
    ].join('\r\n'),
  });
}
