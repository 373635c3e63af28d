/**
 * A private Postfix on loopback for the SMTP benchmark: its own config, queue and
 * data directories in a temp dir, one smtpd on a loopback port, every message for
 * the bench domain handed to an LMTP server (a private Dovecot). It is started with
 * `postfix -c DIR start` and stopped with `postfix -c DIR stop`, so no system
 * Postfix is left running and port 25 is never touched. Needs root (Postfix's
 * master runs as root and drops to the `postfix` user).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './dovecot.js';

export interface RunningPostfix {
  version: string;
  port: number;
  /** Messages still in Postfix's queue (not yet handed to LMTP). */
  queued(): number;
  /** The master process's id (its descendants are smtpd, cleanup, qmgr, lmtp…), or undefined before it wrote its pid file. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export function postfixVersion(): string | undefined {
  try {
    return execFileSync('postconf', ['-h', 'mail_version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

const SERVICES = `pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`;

/** Starts Postfix relaying `domain` to LMTP on 127.0.0.1:lmtpPort; resolves when smtpd accepts connections. */
export async function startPostfix(domain: string, lmtpPort: number): Promise<RunningPostfix> {
  const version = postfixVersion();
  if (!version) throw new Error('postfix is not installed (apt-get install -y postfix)');
  if (process.getuid?.() !== 0) throw new Error('a private Postfix needs root');
  const dir = mkdtempSync('/tmp/mailroom-postfix-');
  chmodSync(dir, 0o755); // the postfix user must reach its data directory
  const conf = join(dir, 'conf');
  for (const sub of ['conf', 'queue', 'data']) mkdirSync(join(dir, sub));
  chownSync(join(dir, 'data'), Number(execFileSync('id', ['-u', 'postfix']).toString()), 0);
  const port = await freePort();
  writeFileSync(
    join(conf, 'main.cf'),
    `# Private Postfix for the Mailroom benchmark; nothing outside ${dir} is touched.
compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = ${domain}
virtual_transport = lmtp:inet:127.0.0.1:${lmtpPort}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
disable_dns_lookups = yes
smtp_dns_support_level = disabled
alias_maps =
alias_database =
default_process_limit = 200
`,
  );
  writeFileSync(join(conf, 'master.cf'), `127.0.0.1:${port} inet n - n - - smtpd\n${SERVICES}`);
  const postfix = (cmd: string) => execFileSync('postfix', ['-c', conf, cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    postfix('start');
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    const why = `${e.stderr?.toString() ?? ''} ${e.stdout?.toString() ?? ''} ${safeRead(join(dir, 'postfix.log'))}`.trim() || String(err);
    if (process.env.KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    throw new Error(`postfix did not start: ${why}`);
  }
  return {
    version,
    port,
    queued: () => Number(execFileSync('find', [join(dir, 'queue', 'incoming'), join(dir, 'queue', 'active'), join(dir, 'queue', 'deferred'), join(dir, 'queue', 'maildrop'), '-type', 'f']).toString().split('\n').filter(Boolean).length),
    pid: () => {
      try {
        return Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'latin1').trim()) || undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      try {
        postfix('stop');
      } catch {
        // already stopped
      }
      await new Promise((r) => setTimeout(r, 1000));
      if (process.env.KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => /fatal|error/.test(l)).slice(-3).join(' / ');
  } catch {
    return '';
  }
}
