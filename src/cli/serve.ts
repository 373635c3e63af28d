// mailroom serve [--config FILE] [--data DIR]: run every configured listener until SIGTERM/SIGINT.
import type { Command } from 'commander';
import { formatListenAddress, LISTENER_NAMES, type ListenerName } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import type { RunningServer } from '../server.js';
import { globalOptions, loadCliConfig, reportError } from './context.js';

const LABELS: Record<ListenerName, string> = {
  imap: 'IMAP',
  imaps: 'IMAP (TLS)',
  pop3: 'POP3',
  pop3s: 'POP3 (TLS)',
  smtp: 'SMTP (MX)',
  submission: 'Submission',
  submissions: 'Submission (TLS)',
  lmtp: 'LMTP',
  http: 'HTTP',
};

/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the mail server (IMAP, POP3, SMTP, LMTP, HTTP) until SIGTERM or Ctrl+C')
    .action(async (_options: unknown, command: Command) => {
      process.exitCode = await serve(command);
    });
}

async function serve(command: Command): Promise<number> {
  // Listen for signals before anything else: without a listener, a SIGTERM that arrives
  // during start-up would kill the process at once, skipping the graceful path.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  // SIGHUP reloads (below); until the server is up it must not kill the process either.
  let onHangup = () => {};
  process.on('SIGHUP', () => onHangup());
  let server: RunningServer;
  let log;
  try {
    const config = loadCliConfig(globalOptions(command));
    log = createLogger({ level: config.log.level, format: config.log.format });
    const { startMailroom } = await import('../server.js'); // every protocol: loaded only by `serve`
    const serverLog = log;
    // A promise nobody awaited failed: one session's bug, not a reason to drop every other session.
    process.on('unhandledRejection', (err) => serverLog.error({ err }, 'unhandled promise rejection (server keeps running)'));
    server = await startMailroom(config, log);
    const running = server;
    onHangup = () => {
      let next;
      try {
        next = loadCliConfig(globalOptions(command));
      } catch (err) {
        return serverLog.error({ err }, 'SIGHUP: config not reloaded (keeping the running one)');
      }
      running.reload(next).then(
        () => serverLog.info('SIGHUP: reloaded'),
        (err: unknown) => serverLog.error({ err }, 'SIGHUP: reload failed (keeping the running certificate)'),
      );
    };
    process.stderr.write(banner(server, config.data));
    log.info({ listeners: Object.fromEntries(Object.entries(server.addresses).map(([k, v]) => [k, formatListenAddress(v)])), data: config.data }, 'ready');
  } catch (err) {
    return reportError(err);
  }
  const signal = await stopSignal;
  // A second signal means "now": skip the graceful wait.
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  log.info({ signal }, 'shutting down');
  try {
    await server.close();
  } catch (err) {
    return reportError(err);
  }
  log.info('stopped');
  // Anything still holding the event loop (a stray timer) must not keep a stopped server alive.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

function banner(server: RunningServer, dataDir: string): string {
  const lines = ['', `Mailroom is running. Data: ${dataDir}`];
  for (const name of LISTENER_NAMES) {
    const address = server.addresses[name];
    if (!address) continue;
    const where = formatListenAddress(address);
    lines.push(`  ${LABELS[name].padEnd(17)} ${name === 'http' ? `http://${where}/healthz` : where}`);
  }
  if (server.selfSignedCert) lines.push(`TLS uses a self-signed certificate (${server.selfSignedCert}); clients will ask to trust it.`);
  lines.push(
    `Add a user:  npx mailroom user add alice@example.test --password 'secret'`,
    'DNS records to publish for a domain:  npx mailroom dns example.test   (mail apps then set themselves up from the address; README, "Your first hour")',
    'Stop with Ctrl+C (or SIGTERM).',
    '',
  );
  return lines.join('\n') + '\n';
}
