/**
 * Issue 14, slowloris: a client that trickles bytes (one every 400 ms here; the idle
 * timeouts reset on each) is cut off by the overall deadlines, on every listener: a
 * command line (`limits.line_timeout_s`), the pre-login phase (`limits.login_timeout_s`),
 * a message body (`limits.payload_timeout_s`), an HTTP request's headers and keep-alive
 * idle (`limits.http_request_timeout_s`), a TLS handshake never started
 * (`limits.tls_handshake_timeout_s`). A normal client is served meanwhile.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { cli, legitimateImap, PASSWORD, USER } from './helpers.js';

const LINE_S = 2;
const LOGIN_S = 4;
const PAYLOAD_S = 3;
const HTTP_S = 2;
const HANDSHAKE_S = 2;
/** Cut no later than the deadline plus this (timer and scheduling slack on a busy machine). */
const SLACK_MS = 3000;
const TRICKLE_MS = 400;

interface Cut {
  ms: number;
  received: string;
}

/**
 * Connects, sends `prefix` at once (after the greeting when `greeting`), then `trickle`
 * one byte at a time (or whole, with `whole`), over and over, until the server closes; resolves with
 * how long after the trickle began that happened.
 */
function trickle(port: number, opts: { greeting: boolean; prefix?: string; trickle?: string; whole?: boolean; giveUpMs?: number }): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let received = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const text = opts.trickle ?? '';
    let i = 0;
    const begin = () => {
      started = Date.now();
      if (opts.prefix) s.write(opts.prefix);
      if (text) timer = setInterval(() => s.writable && s.write(opts.whole ? text : text[i++ % text.length]), TRICKLE_MS);
    };
    const giveUp = setTimeout(() => (s.destroy(), reject(new Error(`still open after ${opts.giveUpMs ?? 20_000} ms; received ${JSON.stringify(received)}`))), opts.giveUpMs ?? 20_000);
    s.setEncoding('latin1');
    s.on('connect', () => !opts.greeting && begin());
    s.on('data', (d: string) => {
      received += d;
      if (opts.greeting && started === 0 && received.includes('\r\n')) begin();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - (started || Date.now()), received });
    });
  });
}

function healthz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
  });
}

describe('slowloris: overall deadlines on every listener', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startServer({
      env: {
        MAILROOM_HOSTNAME: 'mx.example.test',
        MAILROOM_LIMITS_LINE_TIMEOUT_S: String(LINE_S),
        MAILROOM_LIMITS_LOGIN_TIMEOUT_S: String(LOGIN_S),
        MAILROOM_LIMITS_PAYLOAD_TIMEOUT_S: String(PAYLOAD_S),
        MAILROOM_LIMITS_HTTP_REQUEST_TIMEOUT_S: String(HTTP_S),
        MAILROOM_LIMITS_TLS_HANDSHAKE_TIMEOUT_S: String(HANDSHAKE_S),
      },
    });
    await cli(server, 'user', 'add', USER, '--password', PASSWORD);
  });
  after(() => server?.stop());

  const within = (cut: Cut, deadlineS: number, what: string) => {
    assert.ok(cut.ms >= deadlineS * 1000 - 500, `${what}: cut after ${cut.ms} ms, before its deadline of ${deadlineS} s`);
    assert.ok(cut.ms <= deadlineS * 1000 + SLACK_MS, `${what}: cut after ${cut.ms} ms (deadline ${deadlineS} s)`);
  };

  it('a command line trickled one byte at a time is cut at the line deadline, on IMAP, POP3, SMTP, submission and LMTP; others are served', { timeout: 60_000 }, async (t) => {
    const endless = 'a NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
    const cuts = ['imap', 'pop3', 'smtp', 'submission', 'lmtp'].map((name) => trickle(server.ports[name as 'imap']!, { greeting: true, trickle: endless }).then((c) => [name, c] as const));
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await legitimateImap(server.ports.imap!)) < 5000, 'a normal IMAP client is served during the attack');
    assert.equal(await healthz(server.ports.http!), 200);
    for (const [name, cut] of await Promise.all(cuts)) {
      t.diagnostic(`${name}: cut ${cut.ms} ms after the line began; last words ${JSON.stringify(cut.received.split('\r\n').slice(-2).join('|'))}`);
      within(cut, LINE_S, name);
    }
  });

  it('complete lines that never log in are cut at the login deadline (IMAP, POP3, submission), the MX is not', { timeout: 60_000 }, async (t) => {
    const noops: Record<string, string> = { imap: 'a NOOP\r\n', pop3: 'NOOP\r\n', submission: 'NOOP\r\n' };
    const cuts = Object.entries(noops).map(([name, line]) => trickle(server.ports[name as 'imap']!, { greeting: true, trickle: line, whole: true }).then((c) => [name, c] as const));
    for (const [name, cut] of await Promise.all(cuts)) {
      t.diagnostic(`${name}: cut ${cut.ms} ms after connecting`);
      within(cut, LOGIN_S, name);
    }
    const mx = trickle(server.ports.smtp!, { greeting: true, trickle: 'NOOP\r\n', whole: true, giveUpMs: (LOGIN_S + 2) * 1000 });
    await assert.rejects(mx, /still open/, 'an MX session has no login to wait for');
  });

  it('a message body trickled after DATA is cut at the payload deadline', { timeout: 30_000 }, async () => {
    const prefix = `EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`;
    const cut = await trickle(server.ports.smtp!, { greeting: true, prefix, trickle: 'Subject: slow\r\n' });
    within(cut, PAYLOAD_S, 'DATA');
    assert.match(cut.received, /354 /);
  });

  it('HTTP: headers trickled, or a keep-alive connection left idle, are cut at the request deadline; /healthz answers meanwhile', { timeout: 30_000 }, async () => {
    const slow = trickle(server.ports.http!, { greeting: false, trickle: 'GET /healthz HTTP/1.1\r\nX-Slow: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' });
    const idle = trickle(server.ports.http!, { greeting: false, prefix: 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' });
    assert.equal(await healthz(server.ports.http!), 200);
    within(await slow, HTTP_S, 'HTTP headers');
    const kept = await idle.catch((err: Error) => assert.fail(`keep-alive: ${err.message}`));
    assert.match(kept.received, /^HTTP\/1.1 200/);
    within(kept, HTTP_S, 'HTTP keep-alive idle');
  });

  it('implicit TLS: a connection that never starts the handshake is destroyed at the handshake deadline', { timeout: 30_000 }, async () => {
    const cuts = await Promise.all(['imaps', 'pop3s', 'submissions'].map((name) => trickle(server.ports[name as 'imaps']!, { greeting: false, giveUpMs: 10_000 }).then((c) => [name, c] as const)));
    for (const [name, cut] of cuts) within(cut, HANDSHAKE_S, `${name} TLS handshake`);
  });
});
