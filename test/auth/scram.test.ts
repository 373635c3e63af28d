/**
 * SCRAM (RFC 5802, 7677) against the built server over real sockets, on IMAP AUTHENTICATE,
 * POP3 AUTH and SMTP submission AUTH:
 * - python's scramp driving imaplib / poplib / smtplib: SCRAM-SHA-256 and SCRAM-SHA-1 without
 *   TLS, SCRAM-SHA-256-PLUS with tls-unique (TLS 1.2); wrong password, tampered proof and
 *   wrong channel binding fail;
 * - a Node client for tls-exporter (TLS 1.3), binding-type mismatch and malformed messages
 *   (the session survives and can still log in);
 * - a password stored before SCRAM keys existed: SCRAM refuses it with the normal failure,
 *   a PLAIN login adds the keys, then SCRAM works.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { connect, type Transcript } from '../harness/transcript.js';
import { repoRoot } from '../harness/repo-root.js';
import { scramLogin, type Proto } from './scram-node-client.js';

const script = join(repoRoot, 'test', 'auth', 'py', 'scram_client.py');
const ALICE = 'alice@scram.test';
const PW = 'correct horse, battery=staple';

interface PyResult { ok: boolean; answer: string; server_verified: boolean }

function scramp(proto: Proto, port: number, tlsMode: string, mech: string, user: string, password: string, tamper = 'none'): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', [script, proto, '127.0.0.1', String(port), tlsMode, mech, user, password, tamper], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`scram_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as PyResult);
    });
  });
}

/** A connection past the greeting (and EHLO for SMTP), on TLS when asked. */
async function open(proto: Proto, port: number, tls: boolean): Promise<Transcript> {
  const t = await connect(port, { tls, timeoutMs: 10_000 });
  await t.readUntil(proto === 'smtp' ? /^220 .*\r\n/m : /\r\n/);
  if (proto === 'smtp') {
    t.send('EHLO client.test\r\n');
    await t.readUntil(/^250 .*\r\n/m);
  }
  return t;
}

describe('SCRAM over IMAP, POP3 and SMTP submission', () => {
  let server: RunningTestServer;
  /** The plain (no TLS) and implicit TLS port of each protocol. */
  let ports: Record<Proto, { plain: number; tls: number }>;

  before(async () => {
    // auth.allow_plaintext=loopback (the default): the plain ports take password logins from 127.0.0.1.
    server = await startServer();
    const p = server.ports;
    ports = { imap: { plain: p.imap!, tls: p.imaps! }, pop3: { plain: p.pop3!, tls: p.pop3s! }, smtp: { plain: p.submission!, tls: p.submissions! } };
    const r = await runCli(['user', 'add', ALICE, '--password', PW], { dataDir: server.dataDir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => server?.stop());

  // First: the failures of the tests below slow later logins of accounts not yet known-good from 127.0.0.1.
  it('a password from before SCRAM keys: SCRAM refuses it normally, PLAIN adds the keys, then SCRAM works', async () => {
    const OLD = 'old@scram.test';
    const add = await runCli(['user', 'add', OLD, '--password', PW], { dataDir: server.dataDir });
    assert.equal(add.code, 0, add.stderr);
    const db = new Database(join(server.dataDir, 'mailroom.db'));
    try {
      db.prepare('UPDATE users SET scram_keys = ? WHERE address = ?').run('', OLD);
    } finally {
      db.close();
    }
    const refused = await scramp('imap', ports.imap.plain, 'none', 'SCRAM-SHA-256', OLD, PW);
    assert.ok(!refused.ok);
    assert.match(refused.answer, /AUTHENTICATIONFAILED/);
    const t = await connect(ports.imap.tls, { tls: true, timeoutMs: 10_000 });
    try {
      await t.readUntil(/\r\n/);
      t.send(`a1 LOGIN ${OLD} "${PW}"\r\n`);
      assert.match(await t.readUntil(/^a1 .*\r\n/m), /a1 OK/);
    } finally {
      t.socket.destroy();
    }
    const deadline = Date.now() + 10_000;
    let r = await scramp('imap', ports.imap.plain, 'none', 'SCRAM-SHA-256', OLD, PW);
    while (!r.ok && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      r = await scramp('imap', ports.imap.plain, 'none', 'SCRAM-SHA-256', OLD, PW);
    }
    assert.ok(r.ok && r.server_verified, r.answer);
  });

  for (const proto of ['imap', 'pop3', 'smtp'] as const) {
    describe(proto, () => {
      it('scramp: SCRAM-SHA-256 and SCRAM-SHA-1 without TLS; the server proves it holds the keys', async () => {
        for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
          const r = await scramp(proto, ports[proto].plain, 'none', mech, ALICE, PW);
          assert.ok(r.ok, `${mech}: ${r.answer}`);
          assert.ok(r.server_verified, mech);
        }
      });

      it('scramp: SCRAM-SHA-256-PLUS with tls-unique over TLS 1.2 (implicit TLS and STARTTLS)', async () => {
        const r = await scramp(proto, ports[proto].tls, 'ssl', 'SCRAM-SHA-256-PLUS', ALICE, PW);
        assert.ok(r.ok && r.server_verified, r.answer);
        const s = await scramp(proto, ports[proto].plain, 'starttls', 'SCRAM-SHA-256-PLUS', ALICE, PW);
        assert.ok(s.ok && s.server_verified, s.answer);
      });

      it('scramp: wrong password, tampered proof and wrong channel binding fail as a normal login failure', async () => {
        const wrong = await scramp(proto, ports[proto].plain, 'none', 'SCRAM-SHA-256', ALICE, 'not it');
        assert.ok(!wrong.ok && !wrong.server_verified, wrong.answer);
        assert.match(wrong.answer, { imap: /AUTHENTICATIONFAILED/, pop3: /\[AUTH\]/, smtp: /^535 5\.7\.8/ }[proto]);
        const tampered = await scramp(proto, ports[proto].plain, 'none', 'SCRAM-SHA-256', ALICE, PW, 'proof');
        assert.ok(!tampered.ok && !tampered.server_verified, tampered.answer);
        const cb = await scramp(proto, ports[proto].tls, 'ssl', 'SCRAM-SHA-256-PLUS', ALICE, PW, 'cb');
        assert.ok(!cb.ok && !cb.server_verified, cb.answer);
        const unknown = await scramp(proto, ports[proto].plain, 'none', 'SCRAM-SHA-256', 'nobody@scram.test', PW);
        assert.equal(unknown.answer.replace(/nobody/, 'alice'), wrong.answer.replace(/nobody/, 'alice'), 'an unknown user gets the same answer');
      });

      it('tls-exporter over TLS 1.3 (Node client); a tls-unique claim there is refused; tampered binding fails', async () => {
        const t = await open(proto, ports[proto].tls, true);
        try {
          const r = await scramLogin(t, proto, { mechanism: 'SCRAM-SHA-256-PLUS', user: ALICE, password: PW });
          assert.match(r.final, { imap: /^a1 OK/, pop3: /^\+OK/, smtp: /^235 / }[proto]);
          assert.ok(r.serverVerified);
        } finally {
          t.socket.destroy();
        }
        const u = await open(proto, ports[proto].tls, true);
        try {
          const r = await scramLogin(u, proto, { mechanism: 'SCRAM-SHA-256-PLUS', user: ALICE, password: PW, cbType: 'tls-unique' });
          assert.match(r.final, { imap: /^a1 BAD .*channel binding/, pop3: /^-ERR .*channel binding/, smtp: /^501 .*channel binding/ }[proto]);
          const bad = await scramLogin(u, proto, { mechanism: 'SCRAM-SHA-256-PLUS', user: ALICE, password: PW, tamperCb: true });
          assert.match(bad.final, { imap: /^a1 NO/, pop3: /^-ERR/, smtp: /^535 / }[proto]);
        } finally {
          u.socket.destroy();
        }
      });

      it('-PLUS is not offered, and refused, without TLS', async () => {
        const t = await open(proto, ports[proto].plain, false);
        try {
          const cmd = { imap: 'a0 CAPABILITY', pop3: 'CAPA', smtp: 'EHLO again.test' }[proto];
          t.send(`${cmd}\r\n`);
          const caps = await t.readUntil({ imap: /^a0 OK.*\r\n/m, pop3: /^\.\r\n/m, smtp: /^250 .*\r\n/m }[proto]);
          assert.match(caps, /SCRAM-SHA-256/);
          assert.doesNotMatch(caps, /SCRAM-SHA-256-PLUS/);
          const r = await scramLogin(t, proto, { mechanism: 'SCRAM-SHA-256-PLUS', user: ALICE, password: PW });
          assert.match(r.final, { imap: /^a1 NO/, pop3: /^-ERR/, smtp: /^(504|530) / }[proto]);
        } finally {
          t.socket.destroy();
        }
      });

      it('malformed SCRAM messages get a protocol error and the session still logs in', async () => {
        const bad = ['', 'x', 'n,,', 'n,,n=,r=abc', 'q,,n=a,r=b', 'n,,m=ext,n=a,r=b', 'n,,n=a=zz,r=b', 'n,a=other@x,n=alice@scram.test,r=b', 'n,,n=a,r=b,c'];
        for (const msg of bad) {
          // One connection each: POP3 and SMTP end a session after a few errors (their error budget).
          const c = await open(proto, ports[proto].plain, false);
          try {
            const line = proto === 'imap' ? `a1 AUTHENTICATE SCRAM-SHA-256 ${Buffer.from(msg).toString('base64') || '='}` : `AUTH SCRAM-SHA-256 ${Buffer.from(msg).toString('base64') || '='}`;
            c.send(`${line}\r\n`);
            const answer = await c.readUntil({ imap: /^a1 .*\r\n/m, pop3: /^-ERR.*\r\n/m, smtp: /^5\d\d .*\r\n/m }[proto]);
            assert.match(answer, { imap: /a1 BAD/, pop3: /-ERR/, smtp: /501 / }[proto], JSON.stringify(msg));
          } finally {
            c.socket.destroy();
          }
        }
        const t = await open(proto, ports[proto].plain, false);
        try {
          // a bad final message after a good first one
          t.send(`${proto === 'imap' ? 'a1 AUTHENTICATE' : 'AUTH'} SCRAM-SHA-256 ${Buffer.from(`n,,n=${ALICE},r=abcdef`).toString('base64')}\r\n`);
          await t.readUntil({ imap: /^\+ .*\r\n/m, pop3: /^\+ .*\r\n/m, smtp: /^334 .*\r\n/m }[proto]);
          t.send(`${Buffer.from('c=biws,r=wrongnonce,p=AAAA').toString('base64')}\r\n`);
          assert.match(await t.readUntil({ imap: /^a1 .*\r\n/m, pop3: /^-ERR.*\r\n/m, smtp: /^5\d\d .*\r\n/m }[proto]), /BAD|-ERR|501/);
          const r = await scramLogin(t, proto, { mechanism: 'SCRAM-SHA-256', user: ALICE, password: PW });
          assert.match(r.final, { imap: /^a1 OK/, pop3: /^\+OK/, smtp: /^235 / }[proto]);
        } finally {
          t.socket.destroy();
        }
      });
    });
  }
});
