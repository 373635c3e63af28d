// PROXY protocol on real listeners: the client address in a v1 or v2 header (sent
// before the protocol, and before TLS on implicit-TLS ports) is the one the server logs
// and limits by; a connection without a header on a PROXY listener gets nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { V2_SIGNATURE } from '../../src/net/proxy-protocol.js';
import { startServer, type RunningTestServer } from '../harness/server.js';

function v2Header(ip: string, port: number): Buffer {
  const block = Buffer.alloc(12);
  ip.split('.').forEach((o, i) => (block[i] = Number(o)));
  block.set([127, 0, 0, 1], 4);
  block.writeUInt16BE(port, 8);
  block.writeUInt16BE(993, 10);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 12]), block]);
}

function firstLine(socket: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text === '' ? '(closed)' : text));
  });
}

describe('PROXY protocol listeners', { timeout: 60_000 }, () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startServer({ env: { MAILROOM_PROXY_LISTENERS: 'imap,imaps,pop3', MAILROOM_PROXY_TRUSTED: '127.0.0.0/8,::1/128' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('v1 on IMAP: greeting follows, and the logged client is the proxied one', async () => {
    const s = net.connect(server.ports.imap!, '127.0.0.1');
    s.write('PROXY TCP4 203.0.113.7 192.0.2.1 40001 143\r\n');
    assert.match(await firstLine(s), /^\* OK/);
    await server.waitForLog((l) => l.msg === 'connect' && l.remote === '203.0.113.7', 10_000);
    s.destroy();
  });

  it('v2 header and the first command in one packet on POP3', async () => {
    const s = net.connect(server.ports.pop3!, '127.0.0.1');
    s.write(Buffer.concat([v2Header('198.51.100.23', 5555), Buffer.from('CAPA\r\n')]));
    let text = '';
    s.setEncoding('utf8');
    await new Promise<void>((resolve) => s.on('data', (d: string) => ((text += d), /\r\n\.\r\n/.test(text) && resolve())));
    assert.match(text, /^\+OK[^\r]*\r\n\+OK[^\r]*\r\n/);
    await server.waitForLog((l) => l.msg === 'connect' && l.remote === '198.51.100.23', 10_000);
    s.destroy();
  });

  it('v2 before TLS on IMAPS (header and ClientHello back to back)', async () => {
    const raw = net.connect(server.ports.imaps!, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write(v2Header('192.0.2.200', 6000));
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    assert.match(await firstLine(secure), /^\* OK/);
    await server.waitForLog((l) => l.msg === 'connect' && l.remote === '192.0.2.200', 10_000);
    secure.destroy();
  });

  it('no header on a PROXY listener: closed without a greeting', async () => {
    const s = net.connect(server.ports.imap!, '127.0.0.1');
    s.write('a1 CAPABILITY\r\n');
    assert.equal(await firstLine(s), '(closed)');
  });

  it('listeners not named stay plain', async () => {
    const s = net.connect(server.ports.lmtp!, '127.0.0.1');
    assert.match(await firstLine(s), /^220 /);
    s.destroy();
  });
});
