/**
 * `mailroom backup --out DIR` and `mailroom restore-backup DIR [--force]` (src/backup/).
 * SQLite only: on PostgreSQL both refuse with the way to do it (pg_dump + the blob directory).
 */
import type { Command } from 'commander';
import { backendOf } from '../store/open.js';
import { CliError, globalOptions, loadCliConfig, reportError } from './context.js';
import { progressBar } from './progress.js';

const PG_HINT =
  'the database is PostgreSQL: back it up with pg_dump (e.g. pg_dump -Fc -f mailroom.dump "$MAILROOM_DATABASE_URL") ' +
  'and copy the blob directory (database.blob_dir) if one is set; restore with pg_restore. See README.md, "Backups".';

function sqliteDataDir(cmd: Command): string {
  const config = loadCliConfig(globalOptions(cmd));
  if (backendOf(config.database_url) === 'postgres') throw new CliError(PG_HINT);
  return config.data;
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('consistent online backup of the data directory into DIR (incremental when DIR holds a previous backup)')
    .requiredOption('--out <dir>', 'backup directory')
    .action((opts: { out: string }, cmd: Command) =>
      run(async () => {
        const dataDir = sqliteDataDir(cmd);
        const { makeBackup } = await import('../backup/backup.js');
        const bar = progressBar('blobs');
        const r = makeBackup(dataDir, opts.out, bar.update);
        bar.done();
        console.log(`backup ${opts.out}: ${r.database}, ${r.blobsNew} new blobs (${r.bytesNew} bytes), ${r.blobsKept} already there, ${r.files} files in the manifest`);
      }),
    );

  program
    .command('restore-backup')
    .description('verify a backup against its manifest and restore it into the data directory (server stopped)')
    .argument('<dir>', 'backup directory')
    .option('--force', 'replace the contents of a non-empty data directory')
    .action((dir: string, opts: { force?: boolean }, cmd: Command) =>
      run(async () => {
        const dataDir = sqliteDataDir(cmd);
        const [{ restoreBackup, RestoreRefused }, { latestVersion }] = await Promise.all([import('../backup/restore.js'), import('../store/sqlite/migrations.js')]);
        const bar = progressBar('files');
        try {
          const r = restoreBackup(dir, dataDir, { force: opts.force === true, newestSchema: latestVersion, progress: bar.update });
          bar.done();
          console.log(`restored ${r.files} files from ${dir} (backup of ${r.manifest.createdAt}) into ${dataDir}`);
        } catch (err) {
          bar.done();
          if (err instanceof RestoreRefused) throw new CliError(`refused: ${err.message}`);
          throw err;
        }
      }),
    );
}
