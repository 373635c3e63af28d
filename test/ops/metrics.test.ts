/**
 * /metrics over real HTTP after real IMAP (imapflow), POP3 (python3 poplib) and SMTP
 * (nodemailer) traffic: names, types, and that the counters moved. And the log lines an
 * administrator greps: every login and failed login (user, protocol, client, device) and
 * one `delivery` line per recipient (queue id, from, to, size, result).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { connect } from '../harness/transcript.js';
import { startWorld, type World } from '../smtp/setup.js';

const run = promisify(execFile);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text exposition format: `# TYPE` lines and samples (labels without escaped quotes suffice here). */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples };
}

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error('timed out');
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.reduce((sum, s) => sum + s.value, 0);
}

describe('metrics and logs over real traffic', () => {
  let w: World;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${w.server.ports.http}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  before(async () => {
    w = await startWorld();
  });
  after(async () => {
    await w?.stop();
  });

  it('counts connections, sessions, logins, commands and messages; types are right', async () => {
    // Not scraped before the traffic: storage figures are cached for 30 s from the first scrape.
    // The server is fresh, so every counter starts at 0.
    // SMTP (MX): one message to alice, through nodemailer.
    const mx = nodemailer.createTransport({ host: '127.0.0.1', port: w.server.ports.smtp!, secure: false, ignoreTLS: true, name: 'client.test' });
    await mx.sendMail({ envelope: { from: 'sender@remote.test', to: ['alice@example.test'] }, raw: 'From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: metrics\r\n\r\nhello\r\n' });

    // IMAP: one good login with a session held open while scraping, one failed login.
    const imap = new ImapFlow({ host: '127.0.0.1', port: w.server.ports.imap!, secure: false, auth: { user: 'alice@example.test', pass: 'secret' }, logger: false, tls: { rejectUnauthorized: false } });
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    await imap.fetchOne('*', { envelope: true });
    const bad = await connect(w.server.ports.imap!);
    await bad.readLine();
    bad.send('a1 LOGIN bob@example.test wrong-password\r\na2 FROBNICATE\r\n');
    await bad.readUntil(/a2 BAD[^\r]*\r\n/);
    bad.close();

    // POP3 with python's poplib.
    const py = `import poplib\np=poplib.POP3('127.0.0.1', ${w.server.ports.pop3})\np.user('alice@example.test')\np.pass_('secret')\nprint(p.stat()[0])\np.quit()`;
    const { stdout } = await run('python3', ['-c', py]);
    assert.equal(stdout.trim(), '1');

    const after = await scrape();
    const { types, samples } = after;
    const expectedTypes: Record<string, string> = {
      mailroom_connections: 'gauge',
      mailroom_connections_total: 'counter',
      mailroom_sessions: 'gauge',
      mailroom_logins_total: 'counter',
      mailroom_command_duration_seconds: 'histogram',
      mailroom_messages_total: 'counter',
      mailroom_store_transaction_duration_seconds: 'histogram',
      mailroom_queue_entries: 'gauge',
      mailroom_queue_oldest_age_seconds: 'gauge',
      mailroom_storage_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expectedTypes)) assert.equal(types.get(name), type, name);

    assert.equal(value(samples, 'mailroom_logins_total', { protocol: 'imap', result: 'ok' }), 1);
    assert.equal(value(samples, 'mailroom_logins_total', { protocol: 'imap', result: 'failed' }), 1);
    assert.equal(value(samples, 'mailroom_logins_total', { protocol: 'pop3', result: 'ok' }), 1);
    assert.equal(value(samples, 'mailroom_sessions', { protocol: 'imap' }), 1, 'the imapflow session is still open');
    assert.equal(value(samples, 'mailroom_connections', { listener: 'imap' }), 1);
    assert.equal(value(samples, 'mailroom_connections', { listener: 'http' }), 1, 'this scrape');
    assert.ok(value(samples, 'mailroom_connections_total', { listener: 'pop3' }) >= 1);
    assert.equal(value(samples, 'mailroom_messages_total', { result: 'accepted' }), 1);
    assert.equal(value(samples, 'mailroom_messages_total', { result: 'delivered' }), 1);

    const count = (protocol: string, command: string) => value(samples, 'mailroom_command_duration_seconds_count', { protocol, command });
    assert.ok(count('imap', 'LOGIN') + count('imap', 'AUTHENTICATE') >= 2, 'both logins');
    assert.ok(count('imap', 'SELECT') >= 1);
    assert.equal(count('imap', 'unknown'), 1, 'FROBNICATE is one bounded label');
    assert.ok(samples.every((s) => s.labels.command !== 'FROBNICATE'));
    assert.equal(count('pop3', 'STAT'), 1);
    assert.equal(count('smtp', 'DATA'), 1);
    assert.ok(value(samples, 'mailroom_command_duration_seconds_bucket', { protocol: 'smtp', command: 'DATA', le: '+Inf' }) === 1);
    assert.ok(value(samples, 'mailroom_store_transaction_duration_seconds_count', { method: 'getUser' }) >= 1);
    assert.ok(value(samples, 'mailroom_storage_bytes', { kind: 'logical' }) > 0, 'alice has a message');
    assert.ok(value(samples, 'mailroom_storage_bytes', { kind: 'database' }) > 0, 'SQLite file on disk');
    assert.equal(value(samples, 'mailroom_queue_entries'), 0);

    await imap.logout();
    await waitFor(() => w.server.stdout.filter((l) => l.msg === 'disconnect' && l.listener === 'imap').length === 2);
    const closed = await scrape();
    assert.equal(value(closed.samples, 'mailroom_sessions', { protocol: 'imap' }), 0);
    assert.equal(value(closed.samples, 'mailroom_connections', { listener: 'imap' }), 0);
  });

  it('logs every login and failed login with user, protocol, client and device, and one delivery line per recipient', async () => {
    const logins = w.server.stdout.filter((l) => l.msg === 'login');
    assert.ok(logins.some((l) => l.user === 'alice@example.test' && l.protocol === 'imap' && l.client === '127.0.0.1' && l.device === null));
    assert.ok(logins.some((l) => l.user === 'alice@example.test' && l.protocol === 'pop3'));
    const failed = w.server.stdout.filter((l) => l.msg === 'login failed');
    assert.deepEqual(failed.map((l) => [l.user, l.protocol, l.client, l.reason, l.level]), [['bob@example.test', 'imap', '127.0.0.1', 'invalid', 'warn']]);
    assert.ok(!JSON.stringify(w.server.stdout).includes('wrong-password'), 'never a password');
    const deliveries = w.server.stdout.filter((l) => l.msg === 'delivery');
    assert.equal(deliveries.length, 1);
    const [d] = deliveries;
    assert.equal(d.from, 'sender@remote.test');
    assert.equal(d.to, 'alice@example.test');
    assert.equal(d.relay, 'local');
    assert.equal(d.result, 'delivered');
    assert.equal(typeof d.size, 'number');
    assert.match(String(d.queueId), /^[\w-]+\.\w+$/);
  });
});
