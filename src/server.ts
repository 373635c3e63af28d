/**
 * The wiring, readable in one screen: config → certificate → store and change bus
 * → one listener per configured address. Returns a handle whose close() shuts
 * down gracefully (listeners first, so no session outlives the store).
 *
 * Never imports: protocol internals beyond their handler entry points, SQL.
 * Invariants: on a failed start everything already opened is closed again.
 */
import type { Logger } from 'pino';
import { formatListenAddress, LISTENER_NAMES, type Config, type ListenAddress, type ListenerName } from './config/schema.js';
import { startListeners, type ListenerSpec } from './net/listeners.js';
import { proxySettings } from './net/proxy-config.js';
import { fingerprint, loadTlsMaterial, type TlsMaterial } from './net/tls.js';
import { watchFiles, type FileWatch } from './net/cert-watch.js';
import { dropPrivileges } from './net/privileges.js';
import { backendOf, openBackend } from './store/open.js';
import { startAuthenticator } from './auth/authenticate.js';
import { LiveLogins } from './auth/live-logins.js';
import { loginEventRecorder } from './auth/login-events.js';
import { newLoginNotifier } from './mail/new-login-notice.js';
import { deliveryContext } from './mail/delivery-context.js';
import { retentionSettings, startDeletedPurge } from './mail/recently-deleted.js';
import { startQuotaCheck } from './mail/quota-check-job.js';
import { protocolFor } from './protocols.js';
import { startQueue } from './smtp/queue/index.js';
import type { Services } from './services.js';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sweepTemp } from './mail/temp-sweep.js';
import { observedLogins } from './auth/observed-logins.js';
import { timedStore } from './metrics/timed-store.js';
import { watchStore } from './metrics/store-gauges.js';
import { connectionOpened, openCounts } from './metrics/registry.js';
import { startAdminSocket } from './admin/socket.js';
import type { ConnectionHandler } from './net/listeners.js';

/** The handler, with its open connections counted in `mailroom_connections{listener}`. */
function countedConnections(listener: ListenerName, handler: ConnectionHandler): ConnectionHandler {
  return (socket, session) => {
    socket.on('close', connectionOpened(listener)); // on(), not once(): 'close' comes once, and once() costs a wrapper per socket
    handler(socket, session);
  };
}
import { clearStaleLeases, leaseOwnerPrefix, nodeId } from './mail/lease-owner.js';

/** Listeners that speak TLS from the first byte (the others offer STARTTLS, or nothing). */
const IMPLICIT_TLS: ReadonlySet<ListenerName> = new Set(['imaps', 'pop3s', 'submissions']);

export interface RunningServer {
  /** Bound address of each listener that is not `off`. */
  addresses: Partial<Record<ListenerName, ListenAddress>>;
  /** Self-signed certificate path, or undefined when the configured one is used. */
  selfSignedCert: string | undefined;
  /**
   * SIGHUP: applies what can change live from a freshly loaded config — the TLS certificate,
   * key and ciphers (re-read from disk) and the log level. Open sessions are not dropped.
   * Rejects, keeping everything as it was, when the new certificate cannot be used.
   */
  reload(next: Config): Promise<void>;
  close(): Promise<void>;
}

/** Starts everything the config asks for; throws ConfigError-free errors (ListenError, TlsSetupError, StoreError…). */
export async function startMailroom(config: Config, log: Logger): Promise<RunningServer> {
  // A data directory made before umask was set, or by hand, may be world-readable.
  await mkdir(config.data, { recursive: true, mode: 0o700 });
  await chmod(config.data, 0o700);
  const swept = await sweepTemp(join(config.data, 'tmp'));
  if (swept > 0) log.info({ files: swept }, 'removed spool files left by an earlier run');
  const tls = await loadTlsMaterial({ cert: config.tls.cert, key: config.tls.key, dataDir: config.data, hostname: config.hostname, log });
  // SQLite: in-process bus and throttle. PostgreSQL: LISTEN/NOTIFY bus and throttle in the database, shared by every node.
  const backend = await openBackend({
    dataDir: config.data,
    databaseUrl: config.database_url,
    database: config.database,
    retention: retentionSettings(config),
    onBusState: (state, err) => (state === 'lost' ? log.warn({ err }, 'change bus: lost PostgreSQL, reconnecting') : log.info('change bus: listening')),
  });
  const { bus } = backend;
  const store = timedStore(backend.store); // every call the server makes is timed for /metrics
  // Password hashes run on their own threads (never in the libuv pool that file I/O uses); verified logins are cached.
  const { cache_size, cache_ttl_s, hash_workers, hash_queue } = config.auth;
  const delivery = deliveryContext(store, config);
  // Failed logins are recorded; a login from a new device or address tells the account (issue 12).
  const loginLog = log.child({ component: 'login-events' });
  const observer = loginEventRecorder(store, {
    notice: newLoginNotifier(delivery, { hostname: config.hostname, serverDefault: config.auth.new_login_notice }),
    onError: (err, what) => loginLog.warn({ err }, `${what} failed`),
  });
  const auth = observedLogins(startAuthenticator(store, backend.throttle, { cacheSize: cache_size, cacheTtlS: cache_ttl_s, hashWorkers: hash_workers, hashQueue: hash_queue }, observer), log.child({ component: 'auth' }));
  const unwatch = watchStore({ store, sqliteDir: backendOf(config.database_url) === 'sqlite' ? config.data : undefined });
  try {
    const listening: Services['listening'] = {};
    const node = nodeId(config.data);
    const stale = await clearStaleLeases(store, node);
    if (stale > 0) log.info({ leases: stale }, 'released leases this node held before a crash (POP3 maildrop locks)');
    const services: Services = {
      leaseOwner: leaseOwnerPrefix(node),
      config,
      store,
      bus,
      auth,
      logins: new LiveLogins(store, bus, (err) => log.warn({ err }, 'could not check open sessions against changed credentials')),
      delivery,
      log,
      tls: { cert: tls.cert, key: tls.key },
      listening,
    };
    const proxy = proxySettings(config.proxy); // PROXY protocol from trusted load balancers (HAProxy)
    const specs: ListenerSpec[] = [];
    for (const name of LISTENER_NAMES) {
      const address = config.listen[name];
      if (address === 'off') continue;
      const protocol = protocolFor(name, services);
      specs.push({ name, address, tls: IMPLICIT_TLS.has(name) ? 'implicit' : 'none', proxy: proxy(name), exemptFromTotal: name === 'http', ...protocol, handler: countedConnections(name, protocol.handler) });
    }
    const listeners = await startListeners(specs, {
      log,
      tls: { cert: tls.cert, key: tls.key, ciphers: config.tls.ciphers },
      connectionsPerIp: config.limits.connections_per_ip,
      connectionsTotal: config.limits.connections_total,
      shutdownTimeoutMs: config.limits.shutdown_timeout_ms,
      handshakeTimeoutMs: config.limits.tls_handshake_timeout_s * 1000,
    });
    // Listening first (ports below 1024 need root), then never root again.
    try {
      const who = await dropPrivileges({ user: config.user, group: config.group, dataDir: config.data });
      if (who.dropped) log.info({ user: config.user, uid: who.uid, gid: who.gid }, 'dropped privileges');
      else if (who.uid === 0) log.warn('running as root; set `user` (MAILROOM_USER) to switch to an unprivileged user after binding');
    } catch (err) {
      await listeners.close();
      throw err;
    }
    let tlsConfig = config.tls;
    /** The files a certificate renewal replaces: the configured pair, or the self-signed one under <data>/tls. */
    const certFiles = (m: TlsMaterial) => (m.selfSigned ? [m.certPath, join(dirname(m.certPath), 'key.pem')] : [tlsConfig.cert, tlsConfig.key]);
    const reloadTls = async (why: string) => {
      const m = await loadTlsMaterial({ cert: tlsConfig.cert, key: tlsConfig.key, dataDir: config.data, hostname: config.hostname, log });
      listeners.reloadTls({ cert: m.cert, key: m.key, ciphers: tlsConfig.ciphers });
      Object.assign(services.tls, { cert: m.cert, key: m.key }); // in place: routes hold the object
      log.info({ cert: m.certPath, sha256: fingerprint(m.cert), why }, 'reloaded TLS certificate');
      return m;
    };
    const watchCerts = (m: TlsMaterial): FileWatch =>
      watchFiles(
        certFiles(m),
        () => void reloadTls('file change').catch((err: unknown) => log.warn({ err }, 'changed certificate files not usable (yet); keeping the current certificate')),
        (err) => log.warn({ err }, 'cannot watch the certificate files; SIGHUP still reloads them'),
      );
    let certWatch = watchCerts(tls);
    Object.assign(listening, listeners.addresses); // client autoconfiguration advertises these
    const startedAt = new Date().toISOString();
    const listeningText = Object.fromEntries(Object.entries(listeners.addresses).map(([k, v]) => [k, formatListenAddress(v)]));
    const admin = await startAdminSocket(config.data, async () => ({ pid: process.pid, startedAt, listeners: listeningText, ...(await openCounts()) }), log);
    const queue = startQueue({ store, config, delivery: services.delivery, log: log.child({ component: 'queue' }) });
    // Kept deleted mail past retention.deleted_days goes; one node at a time (a store lease).
    const purgeLog = log.child({ component: 'recently-deleted' });
    const purge = startDeletedPurge({
      store,
      days: config.retention.deleted_days,
      intervalMs: config.retention.purge_interval_s * 1000,
      onRun: (n) => (n ? purgeLog.info({ purged: n }, 'purged deleted mail past its retention') : undefined),
      onError: (err) => purgeLog.warn({ err }, 'purge of deleted mail failed; retried at the next interval'),
    });
    // Quota counters recounted from the rows and repaired if they drifted; one node at a time.
    const quotaLog = log.child({ component: 'quota-check' });
    const quotaCheck = startQuotaCheck({
      store,
      intervalMs: config.retention.quota_check_interval_s * 1000,
      onRepaired: (fixed) => quotaLog.warn({ users: fixed.map((c) => ({ user: c.address, recorded: c.recorded, actual: c.actual })) }, 'quota counters had drifted; repaired'),
      onError: (err) => quotaLog.warn({ err }, 'quota check failed; retried at the next interval'),
    });
    return {
      addresses: listeners.addresses as RunningServer['addresses'],
      selfSignedCert: tls.selfSigned ? tls.certPath : undefined,
      async reload(next) {
        log.level = next.log.level;
        const previous = tlsConfig;
        tlsConfig = next.tls;
        let m: TlsMaterial;
        try {
          m = await reloadTls('SIGHUP');
        } catch (err) {
          tlsConfig = previous;
          throw err;
        }
        certWatch.close();
        certWatch = watchCerts(m);
      },
      async close() {
        await admin?.close();
        certWatch.close();
        await listeners.close();
        await queue.stop();
        await purge.stop();
        await quotaCheck.stop();
        await auth.close();
        unwatch();
        await backend.close();
      },
    };
  } catch (err) {
    unwatch();
    await auth.close();
    await backend.close();
    throw err;
  }
}
