/**
 * The systemd unit for running Mailroom for real: the standard ports (25, 143, 993, 110,
 * 995, 587, 465) bound by an unprivileged user through CAP_NET_BIND_SERVICE, the data
 * directory the only writable place, and the sandboxing options `systemd-analyze
 * security` looks for. deploy/mailroom.service is this with the defaults (a test keeps
 * them equal); `mailroom install-service` writes it with the caller's paths.
 *
 * Never imports: the store, protocols, config loading.
 */

export interface UnitOptions {
  /** Unprivileged account the server runs as. */
  user: string;
  /** Data directory (MAILROOM_DATA): owned by `user`, the only path the service may write. */
  dataDir: string;
  /** Absolute path of node. */
  node: string;
  /** Absolute path of dist/src/main.js. */
  mainJs: string;
  /** Optional TOML config file (read-only to the service). */
  configFile?: string;
}

export const DEFAULT_UNIT: UnitOptions = { user: 'mailroom', dataDir: '/var/lib/mailroom', node: '/usr/bin/node', mainJs: '/opt/mailroom/dist/src/main.js' };

/** Quotes a path for ExecStart= and Environment= (systemd's own quoting: "…" with \ and " escaped). */
function quoted(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Under /var/lib, systemd creates the directory owned by the service user (StateDirectory=). */
function stateDirectory(dataDir: string): string {
  const m = /^\/var\/lib\/([A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)\/?$/.exec(dataDir);
  return m ? `StateDirectory=${m[1]}\nStateDirectoryMode=0700\n` : '';
}

export function renderUnit(o: UnitOptions): string {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && /[\r\n]/.test(v)) throw new Error(`${k} must be one line`);
  }
  if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(o.user)) throw new Error(`not a user name: ${o.user}`);
  const exec = [o.node, o.mainJs, 'serve', ...(o.configFile ? ['--config', o.configFile] : [])].map(quoted).join(' ');
  return `# Mailroom mail server (IMAP, POP3, SMTP, LMTP, HTTP). Written by \`mailroom install-service\`.
# Install: cp mailroom.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now mailroom
# Users:   sudo -u ${o.user} MAILROOM_DATA=${o.dataDir} ${o.node} ${o.mainJs} user add alice@example.org --password '…'
[Unit]
Description=Mailroom mail server
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
ExecStart=${exec}
# A stop is SIGTERM: graceful (sessions get BYE/421), a second signal ends at once.
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=2
Environment=${quoted(`MAILROOM_DATA=${o.dataDir}`)}
Environment=MAILROOM_LOG_FORMAT=json
Environment=MAILROOM_IMAP=[::]:143
Environment=MAILROOM_IMAPS=[::]:993
Environment=MAILROOM_POP3=[::]:110
Environment=MAILROOM_POP3S=[::]:995
Environment=MAILROOM_SMTP=[::]:25
Environment=MAILROOM_SUBMISSION=[::]:587
Environment=MAILROOM_SUBMISSIONS=[::]:465
Environment=MAILROOM_LMTP=off
Environment=MAILROOM_HTTP=127.0.0.1:8080
# Optional overrides (TLS certificate, hostname, PostgreSQL URL…), one KEY=value a line.
EnvironmentFile=-/etc/mailroom/env
LimitNOFILE=65536

# Ports below 1024 without root: only this one capability, and nothing else.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes

# Sandbox: the data directory is the only writable path.
${stateDirectory(o.dataDir)}ReadWritePaths=${quoted(o.dataDir)}
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
# A call outside the filter fails (libuv and V8 probe some, e.g. io_uring) instead of killing the server.
SystemCallErrorNumber=EPERM
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}
