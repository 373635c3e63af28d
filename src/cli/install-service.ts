/**
 * `mailroom install-service [--user U] [--data DIR] [--target DIR] [--dry-run]` (--data is the
 * global option, default /var/lib/mailroom): writes
 * the systemd unit (src/deploy/systemd-unit.ts) for this installation: this node, this
 * checkout's dist/src/main.js. --dry-run prints it instead. It does not create the user
 * or start anything: it prints the commands to do so, for a person to read first.
 */
import type { Command } from 'commander';
import { chmod, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, globalOptions, reportError } from './context.js';

export function registerInstallServiceCommand(program: Command): void {
  program
    .command('install-service')
    .description('write the systemd unit (standard ports, unprivileged user, sandboxed); --dry-run prints it')
    .option('--user <name>', 'unprivileged user the service runs as', 'mailroom')
    .option('--service-config <file>', 'TOML config file the service reads (optional)')
    .option('--target <dir>', 'where to write mailroom.service', '/etc/systemd/system')
    .option('--dry-run', 'print the unit instead of writing it')
    .action(async (o: { user: string; serviceConfig?: string; target: string; dryRun?: boolean }, cmd: Command) => {
      // --data is the global option: here, the service's data directory (default /var/lib/mailroom).
      const opts = { ...o, data: globalOptions(cmd).data ?? '/var/lib/mailroom' };
      try {
        const { renderUnit } = await import('../deploy/systemd-unit.js');
        if (!isAbsolute(opts.data)) throw new CliError(`--data must be an absolute path for a service: ${opts.data}`);
        const mainJs = fileURLToPath(new URL('../main.js', import.meta.url));
        let unit: string;
        try {
          unit = renderUnit({ user: opts.user, dataDir: opts.data, node: process.execPath, mainJs, configFile: opts.serviceConfig && resolve(opts.serviceConfig) });
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        if (opts.dryRun) return void process.stdout.write(unit);
        const file = join(opts.target, 'mailroom.service');
        try {
          await writeFile(file, unit);
          await chmod(file, 0o644); // unit files are world-readable by convention; the umask (077, main.ts) would make it private
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new CliError(`cannot write ${file}: ${code ?? (err as Error).message}${code === 'EACCES' ? ' (run with sudo, or --dry-run to see the unit)' : ''}`);
        }
        console.log(`wrote ${file}
Next:
  sudo useradd --system --home-dir ${opts.data} --shell /usr/sbin/nologin ${opts.user}
  sudo systemctl daemon-reload && sudo systemctl enable --now mailroom
  sudo -u ${opts.user} ${process.execPath} ${mainJs} --data ${opts.data} status`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
