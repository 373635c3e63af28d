/**
 * A private Dovecot 2.3 on loopback for the IMAP and POP3 benchmarks (and for checking the
 * interop tests against a reference server): its own config, passwd-file users and
 * maildirs in a temp dir, nothing outside it touched. Runs in the foreground as a
 * child process; as root, mail is stored as `nobody` (Dovecot refuses UID 0 for
 * mail), as scripts/record-dovecot-fixtures.sh does.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface RunningDovecot {
  version: string;
  /** Plain IMAP port (STARTTLS offered when tls was asked). */
  port: number;
  /** Implicit-TLS port when tls was asked. */
  tlsPort?: number;
  /** Plain POP3 port when pop3 was asked (needs dovecot-pop3d). */
  pop3Port?: number;
  /** LMTP port when lmtp was asked (needs dovecot-lmtpd). */
  lmtpPort?: number;
  dir: string;
  /** The master process (its descendants are the login and mail processes). */
  pid: number;
  /** A user's home (its mail is in `Maildir/` there, owned by the mail uid/gid). */
  home(user: string): string;
  /** The uid and gid mail files must belong to. */
  mailOwner: { uid: number; gid: number };
  /** Adds a user while running (one passwd-file per user, read at login). */
  addUser(user: string, password: string): void;
  stop(): Promise<void>;
}

/** The installed Dovecot's version, or undefined when it is not installed. */
export function dovecotVersion(): string | undefined {
  try {
    return execFileSync('dovecot', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** A free loopback port (bound and released; good enough for a private bench run). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function idOf(flag: '-u' | '-g', user: string): number | undefined {
  try {
    return Number(execFileSync('id', [flag, user]).toString().trim());
  } catch {
    return undefined;
  }
}

function userExists(name: string): boolean {
  return idOf('-u', name) !== undefined;
}

/** Starts Dovecot with the given users (plain passwords) and waits until it accepts connections. */
export async function startDovecot(users: { user: string; password: string }[], options: { tls?: boolean; pop3?: boolean; lmtp?: boolean; processLimit?: number } = {}): Promise<RunningDovecot> {
  const version = dovecotVersion();
  if (!version) throw new Error('dovecot is not installed (apt-get install -y dovecot-imapd)');
  const root = process.getuid?.() === 0;
  const mailUid = root ? idOf('-u', 'nobody')! : process.getuid!();
  const mailGid = root ? idOf('-g', 'nobody')! : process.getgid!();
  const internal = userExists('dovecot') ? 'dovecot' : execFileSync('id', ['-un']).toString().trim();
  const login = userExists('dovenull') ? 'dovenull' : internal;

  const dir = mkdtempSync('/tmp/mailroom-dovecot-');
  chmodSync(dir, 0o755);
  for (const sub of ['run', 'state', 'home', 'users']) mkdirSync(join(dir, sub));
  const homeOf = (user: string) => join(dir, 'home', user.replace(/[^a-zA-Z0-9.@_-]/g, '_'));
  const addUser = (user: string, password: string) => {
    const home = homeOf(user);
    mkdirSync(home);
    if (root) chownSync(home, mailUid, mailGid);
    // One passwd-file per user: Dovecot re-reads a changed file only when its mtime moves on.
    writeFileSync(join(dir, 'users', user), `${user}:{PLAIN}${password}:${mailUid}:${mailGid}::${home}\n`);
  };
  for (const { user, password } of users) addUser(user, password);

  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const pop3Port = options.pop3 ? await freePort() : undefined;
  const lmtpPort = options.lmtp ? await freePort() : undefined;
  let sslLines = 'ssl = no';
  if (options.tls) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    sslLines = `ssl = yes\nssl_cert = <${join(dir, 'cert.pem')}\nssl_key = <${join(dir, 'key.pem')}`;
  }
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `# Private Dovecot for the Mailroom benchmark; nothing outside ${dir} is touched.
protocols = imap${pop3Port ? ' pop3' : ''}${lmtpPort ? ' lmtp' : ''}
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
${sslLines}
disable_plaintext_auth = no
auth_mechanisms = plain login
# issue 10's peer: Dovecot's defaults plus its verified-credential cache (passwords here are
# PLAIN, no hash to spare, so the cache only spares the passwd-file lookup).
auth_cache_size = 10M
default_internal_user = ${internal}
default_login_user = ${login}
mail_location = maildir:~/Maildir
mail_fsync = optimized
protocol imap {
  mail_max_userip_connections = 100
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users/%u
}
userdb {
  driver = passwd-file
  args = ${dir}/users/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort ?? 0}
    ssl = yes
  }
}
${pop3Port ? pop3Service(pop3Port) : ''}${lmtpPort ? lmtpService(lmtpPort) : ''}service anvil {
  chroot =
}
${options.processLimit ? `service imap {\n  process_limit = ${options.processLimit}\n}\nservice imap-login {\n  process_limit = ${options.processLimit}\n}\n` : ''}`);
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dovecot did not start: ${stderr.trim() || 'timeout'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    version,
    port,
    tlsPort,
    pop3Port,
    lmtpPort,
    dir,
    pid: child.pid!,
    home: homeOf,
    mailOwner: { uid: mailUid, gid: mailGid },
    addUser,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      if (process.env.KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pop3Service(port: number): string {
  return `service pop3-login {
  chroot =
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`;
}

function lmtpService(port: number): string {
  return `service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
