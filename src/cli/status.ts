/**
 * `mailroom status`: what the running server listens on and how many connections and
 * logged-in sessions it has, asked over its admin socket (src/admin/socket.ts) rather
 * than by opening the database. Exit 0 when a server answered, 3 when none runs on this
 * data directory (as LSB `status` does), 1 on any other failure.
 */
import type { Command } from 'commander';
import { CliError, globalOptions, loadCliConfig, reportError } from './context.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('ask the running server (over <data>/admin.sock) what it listens on and how many sessions are open')
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      try {
        const config = loadCliConfig(globalOptions(cmd));
        const { askStatus, ADMIN_SOCKET } = await import('../admin/socket.js');
        const report = await askStatus(config.data);
        if (!report) throw new CliError(`no server is running on ${config.data} (nothing answers on ${config.data}/${ADMIN_SOCKET}); start one with \`mailroom serve\``, 3);
        if (opts.json) return void console.log(JSON.stringify(report, null, 2));
        const lines = [`Mailroom is running: pid ${report.pid}, since ${report.startedAt}, data ${config.data}`, '', `  ${'listener'.padEnd(12)} ${'address'.padEnd(28)} connections`];
        for (const [name, address] of Object.entries(report.listeners)) lines.push(`  ${name.padEnd(12)} ${address.padEnd(28)} ${report.connections[name] ?? 0}`);
        const sessions = ['imap', 'pop3', 'smtp'].map((p) => `${p} ${report.sessions[p] ?? 0}`).join(', ');
        lines.push('', `Logged-in sessions: ${sessions}`);
        console.log(lines.join('\n'));
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
