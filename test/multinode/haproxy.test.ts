// Mailroom behind a real HAProxy (TCP mode, send-proxy / send-proxy-v2, health checks
// with check-send-proxy): the client connects from 127.0.0.2, HAProxy from 127.0.0.1,
// and Mailroom must log and limit by 127.0.0.2. Skipped when haproxy is not installed
// (CI installs it from .ci/apt-packages).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startServer, type RunningTestServer } from '../harness/server.js';

const haproxyMissing = spawnSync('haproxy', ['-v']).error ? 'haproxy is not installed (apt-get install haproxy)' : false;

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function greeting(socket: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(text || '(closed)'));
  });
}

describe('behind HAProxy with PROXY protocol', { skip: haproxyMissing, timeout: 60_000 }, () => {
  let server: RunningTestServer;
  let haproxy: ChildProcess;
  let imapPort: number;
  let imapsPort: number;
  let haproxyLog = '';

  before(async () => {
    server = await startServer({ env: { MAILROOM_PROXY_LISTENERS: 'imap,imaps', MAILROOM_PROXY_TRUSTED: '127.0.0.1/32' } });
    [imapPort, imapsPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-haproxy-'));
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, [
      'global', '  maxconn 100', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
      'frontend imap', `  bind 127.0.0.1:${imapPort}`, '  default_backend imap_nodes',
      'backend imap_nodes', `  server node1 127.0.0.1:${server.ports.imap} check check-send-proxy inter 1s send-proxy`,
      'frontend imaps', `  bind 127.0.0.1:${imapsPort}`, '  default_backend imaps_nodes',
      'backend imaps_nodes', `  server node1 127.0.0.1:${server.ports.imaps} check check-send-proxy inter 1s send-proxy-v2`,
      '',
    ].join('\n'));
    haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d) => (haproxyLog += d));
    haproxy.stderr!.on('data', (d) => (haproxyLog += d));
    for (let i = 0; i < 50; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(imapPort, '127.0.0.1').once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    haproxy?.kill('SIGTERM');
    await server?.stop();
  });

  it('IMAP through send-proxy (v1): the client address is the one Mailroom logs', async () => {
    const s = net.connect({ port: imapPort, host: '127.0.0.1', localAddress: '127.0.0.2' });
    assert.match(await greeting(s), /^\* OK/, haproxyLog);
    await server.waitForLog((l) => l.msg === 'connect' && l.remote === '127.0.0.2', 10_000);
    s.destroy();
  });

  it('IMAPS through send-proxy-v2: TLS is passed through and terminated by Mailroom', async () => {
    const raw = net.connect({ port: imapsPort, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const s = tls.connect({ socket: raw, rejectUnauthorized: false });
    assert.match(await greeting(s), /^\* OK/, haproxyLog);
    assert.ok(s.getPeerCertificate().subject, 'Mailroom’s certificate came through');
    const deadline = Date.now() + 10_000;
    const fromClient = () => server.stdout.filter((l) => l.msg === 'connect' && l.remote === '127.0.0.2').length;
    while (fromClient() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fromClient(), 2, 'the v2 header carried 127.0.0.2 too');
    s.destroy();
  });

  it('HAProxy health checks (check-send-proxy) succeed: no bad-header warnings', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(server.stdout.filter((l) => l.msg === 'bad PROXY header: connection refused').length, 0);
    assert.doesNotMatch(haproxyLog, /is DOWN/);
  });
});
