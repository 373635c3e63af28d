// Which modules a one-shot command loads: a command imports only what it needs (issue 15,
// a fast CLI). Times are measured by `npm run bench cli-startup`, never asserted here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, runCli, tempDirs } from './harness/server.js';
import { mainJs } from './harness/repo-root.js';

/** Loader hooks (their own thread) append each ES module's URL to the file named by the env. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.MAILROOM_TEST_LOADED, url + '\\n');
  return next(url, context);
}
`;

/** Preloaded: registers the hooks, and at exit adds every CommonJS file in require's cache. */
const PRELOAD = (hooksUrl: string) => `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(hooksUrl)});
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const files = Object.keys(require.cache).map((f) => pathToFileURL(f).href);
  appendFileSync(process.env.MAILROOM_TEST_LOADED, files.join('\\n') + '\\n');
});
`;

describe('modules a CLI command loads', () => {
  const { dir, dataDir } = tempDirs();
  const preload = join(dir, 'preload.mjs');
  let runs = 0;

  /** Runs the CLI (cwd without a mailroom.toml) and returns the URLs of the modules it loaded. */
  function loaded(args: string[]): Promise<string[]> {
    const list = join(dir, `loaded-${runs++}.txt`);
    writeFileSync(list, '');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, mainJs, ...args], {
        cwd: dir,
        env: childEnv(dataDir, { MAILROOM_TEST_LOADED: list }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.resume();
      child.once('error', reject);
      child.once('close', (code) => {
        if (code !== 0) return reject(new Error(`mailroom ${args.join(' ')} exited ${code}: ${stderr}`));
        resolve(readFileSync(list, 'utf8').split('\n').filter(Boolean));
      });
    });
  }

  const has = (urls: string[], part: string) => urls.some((u) => u.includes(part));
  /** Fails naming the first module of `urls` that contains one of `parts`. */
  const none = (urls: string[], parts: string[], what: string) => {
    for (const part of parts) {
      const found = urls.find((u) => u.includes(part));
      assert.equal(found, undefined, `${what} loaded ${found}`);
    }
  };

  /** MIME parsing, search, the protocols, the server, the store worker thread, PostgreSQL: none is a one-shot user command's business. */
  const NOT_FOR_USER_COMMANDS = [
    '/node_modules/zod/', // a valid config is checked by src/config/validate.ts; zod only words a rejection
    '/node_modules/libmime/',
    '/node_modules/iconv-lite/',
    '/node_modules/encoding-japanese/',
    '/node_modules/pg/',
    '/node_modules/pino/', // nothing is logged
    '/node_modules/smol-toml/', // no config file
    '/dist/src/mime/',
    '/dist/src/ingest.js',
    '/dist/src/imap/',
    '/dist/src/pop3/',
    '/dist/src/smtp/',
    '/dist/src/http/',
    '/dist/src/server.js',
    '/dist/src/store/worker/proxy.js',
    '/dist/src/store/worker/worker.js',
    '/dist/src/store/postgres/',
  ];

  before(async () => {
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(preload, PRELOAD(pathToFileURL(join(dir, 'hooks.mjs')).href));
    const r = await runCli(['user', 'add', 'first@example.test', '--password', 'secret-1'], { dataDir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help loads commander and no command, config or store module', async () => {
    const urls = await loaded(['--help']);
    assert.ok(has(urls, '/node_modules/commander/'), 'the tracing sees commander');
    none(urls, ['/node_modules/zod/', '/node_modules/better-sqlite3/', '/dist/src/cli/users.js', '/dist/src/cli/context.js', '/dist/src/store/', ...NOT_FOR_USER_COMMANDS], '--help');
  });

  it('user list loads the SQLite store in this thread and no MIME, protocol or logging module', async () => {
    const urls = await loaded(['user', 'list']);
    assert.ok(has(urls, '/node_modules/better-sqlite3/'), 'the tracing sees the SQLite driver');
    assert.ok(has(urls, '/dist/src/store/sqlite/sqlite-store.js'));
    none(urls, NOT_FOR_USER_COMMANDS, 'user list');
    none(urls, ['/dist/src/cli/user-settings-run.js', '/dist/src/mail/pop3-policy.js', '/dist/src/cli/people.js'], 'user list (the modules of user set/show)');
  });

  it('user add loads no MIME, protocol or logging module either', async () => {
    const urls = await loaded(['user', 'add', 'second@example.test', '--password', 'secret-2']);
    assert.ok(has(urls, '/dist/src/auth/password.js'), 'the tracing sees the password hashing');
    none(urls, NOT_FOR_USER_COMMANDS, 'user add');
  });

  it('user add starts the password hash before it loads commander (the hash overlaps the whole start-up)', async () => {
    const urls = await loaded(['user', 'add', 'third@example.test', '--password', 'secret-3']);
    const at = (part: string) => urls.findIndex((u) => u.includes(part));
    assert.ok(at('/dist/src/cli/early-hash.js') >= 0, 'early-hash.js is loaded');
    assert.ok(at('/dist/src/auth/password.js') < at('/node_modules/commander/'), urls.join('\n'));
  });

  it('user list with a valid config file loads no zod; an invalid one does, to name the key', async () => {
    writeFileSync(join(dir, 'mailroom.toml'), '[log]\nlevel = "warn"\n[limits]\nconnections_per_ip = 7\n');
    try {
      none(await loaded(['user', 'list']), ['/node_modules/zod/'], 'user list with a config file');
      writeFileSync(join(dir, 'mailroom.toml'), '[log]\nlevel = "loud"\n');
      await assert.rejects(loaded(['user', 'list']), /exited 2: config error: log\.level \(\S*mailroom\.toml\): expected one of/);
      // The rejected run's list: the tracing does see zod when it loads.
      assert.ok(has(readFileSync(join(dir, `loaded-${runs - 1}.txt`), 'utf8').split('\n'), '/node_modules/zod/'));
    } finally {
      rmSync(join(dir, 'mailroom.toml'));
    }
  });

  it('a config file brings the TOML parser', async () => {
    writeFileSync(join(dir, 'mailroom.toml'), '[log]\nlevel = "warn"\n');
    try {
      assert.ok(has(await loaded(['user', 'list']), '/node_modules/smol-toml/'));
    } finally {
      rmSync(join(dir, 'mailroom.toml'));
    }
  });
});
