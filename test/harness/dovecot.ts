/**
 * A private Dovecot (Debian's dovecot-imapd/-pop3d) as "the old server" for import tests,
 * the way test/helpers/peer-dovecot.sh runs the harness peer: own config, base_dir and
 * maildirs in a temp directory, passwd-file users, a self-signed certificate, 127.0.0.1
 * on free ports. `startDovecot` resolves to { skip: reason } when Dovecot cannot run
 * here, so the caller can skip with that message.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RunningDovecot {
  dir: string;
  ports: { imap: number; imaps: number; pop3: number; pop3s: number };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function config(dir: string, ports: RunningDovecot['ports'], owner: { uid: number; gid: number; internal: string }): string {
  return `protocols = imap pop3
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = import-test-${path.basename(dir)}
log_path = ${dir}/log/dovecot.log
ssl = yes
ssl_cert = <${dir}/conf/cert.pem
ssl_key = <${dir}/conf/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%d/%n
first_valid_uid = ${owner.uid}
${owner.internal ? `default_internal_user = ${owner.internal}\ndefault_login_user = ${owner.internal}\n` : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/conf/users
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Archive {
    special_use = \\Archive
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${ports.imap}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${ports.pop3s}
    ssl = yes
  }
}
`;
}

/** Starts Dovecot with `users` (address → password); { skip } with the reason when it cannot run here. */
export async function startDovecot(users: Record<string, string>): Promise<RunningDovecot | { skip: string }> {
  const binary = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((b) => fs.existsSync(b));
  if (!binary) return { skip: 'Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-dovecot-'));
  for (const d of ['conf', 'run', 'state', 'log', 'mail']) fs.mkdirSync(path.join(dir, d));
  // As root, mail belongs to the "mail" user as in the harness; otherwise Dovecot runs wholly as us.
  const root = process.getuid?.() === 0;
  const owner = root ? { uid: 8, gid: 8, internal: '' } : { uid: process.getuid!(), gid: process.getgid!(), internal: os.userInfo().username };
  fs.chmodSync(dir, 0o755);
  if (root) fs.chownSync(path.join(dir, 'mail'), owner.uid, owner.gid);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=localhost', '-keyout', `${dir}/conf/key.pem`, '-out', `${dir}/conf/cert.pem`], { stdio: 'ignore' });
  } catch {
    return { skip: 'openssl could not make a certificate for Dovecot' };
  }
  fs.writeFileSync(path.join(dir, 'conf/users'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}\n`).join(''));
  const ports = { imap: await freePort(), imaps: await freePort(), pop3: await freePort(), pop3s: await freePort() };
  const conf = path.join(dir, 'conf/dovecot.conf');
  fs.writeFileSync(conf, config(dir, ports, owner));
  // The master daemonizes and keeps its stderr: a file, not a pipe, or this would wait for it forever.
  const startLog = path.join(dir, 'log/start.log');
  const fd = fs.openSync(startLog, 'w');
  try {
    execFileSync(binary, ['-c', conf], { stdio: ['ignore', fd, fd] });
  } catch {
    return { skip: `Dovecot did not start: ${fs.readFileSync(startLog, 'utf8').trim()}` };
  } finally {
    fs.closeSync(fd);
  }
  const pidFile = path.join(dir, 'run/master.pid');
  // Even if the test process ends without its after() hook, the master does not outlive it.
  const killOnExit = () => {
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      /* gone already */
    }
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM'); // the master stops its own children
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitPort(ports.imap, 20_000)) || !(await waitPort(ports.pop3, 5_000))) {
    const log = fs.existsSync(path.join(dir, 'log/dovecot.log')) ? fs.readFileSync(path.join(dir, 'log/dovecot.log'), 'utf8').slice(-500) : '';
    await stop();
    return { skip: `Dovecot did not open its ports: ${log}` };
  }
  return { dir, ports, stop };
}
