import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, exitCodeFor, runWithStore } from './context.js';
import { ConfigError } from '../config/load.js';
import { StoreError } from '../store/errors.js';

/** Runs fn with stderr captured and process.exitCode restored afterwards. */
async function captured(fn: () => Promise<void>): Promise<{ stderr: string; exitCode: number | undefined }> {
  const write = process.stderr.write;
  const saved = process.exitCode;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    await fn();
    return { stderr, exitCode: process.exitCode as number | undefined };
  } finally {
    process.stderr.write = write;
    process.exitCode = saved;
  }
}

test('exit codes by error kind', () => {
  assert.equal(exitCodeFor(new ConfigError('x')), 2);
  assert.equal(exitCodeFor(new StoreError('notfound', 'x')), 1);
  assert.equal(exitCodeFor(new CliError('x')), 1);
  assert.equal(exitCodeFor(new CliError('x', 3)), 3);
  assert.equal(exitCodeFor(new TypeError('x')), 1);
});

test('runWithStore opens the store under --data, runs, closes; errors become one line and an exit code', async () => {
  const data = join(mkdtempSync(join(tmpdir(), 'mailroom-cli-')), 'data');
  const saved = process.env.MAILROOM_IMAP;
  let domains: unknown;
  const ok = await captured(() =>
    runWithStore({ data }, async ({ store, config }) => {
      assert.equal(config.data, data);
      domains = await store.listDomains();
    }),
  );
  assert.deepEqual(domains, []);
  assert.equal(ok.exitCode, undefined);
  assert.equal(ok.stderr, '');
  assert.ok(existsSync(join(data, 'mailroom.db')));

  const rows: [() => never, string, number][] = [
    [() => { throw new CliError('no such user: bob@example.test'); }, 'error: no such user: bob@example.test\n', 1],
    [() => { throw new StoreError('exists', 'domain example.test exists'); }, 'error: domain example.test exists\n', 1],
    [() => { throw new Error('multi\nline'); }, 'error: multi line\n', 1],
  ];
  for (const [thrower, stderr, code] of rows) {
    const r = await captured(() => runWithStore({ data }, async () => thrower()));
    assert.deepEqual(r, { stderr, exitCode: code });
  }
  try {
    process.env.MAILROOM_IMAP = 'nope';
    const bad = await captured(() => runWithStore({ data }, async () => assert.fail('must not run')));
    assert.deepEqual(bad, { stderr: 'config error: listen.imap (MAILROOM_IMAP): expected host:port or "off", got "nope"\n', exitCode: 2 });
  } finally {
    if (saved === undefined) delete process.env.MAILROOM_IMAP;
    else process.env.MAILROOM_IMAP = saved;
  }
});
