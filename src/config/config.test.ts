import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig, type LoadOptions } from './load.js';
import { leafKeys, parseListenAddress, formatListenAddress } from './schema.js';
import { renderConfigDocs } from './gen-docs.js';
import { repoRoot } from '../../test/harness/repo-root.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-config-'));

function withFile(toml: string, options: Omit<LoadOptions, 'configPath'> = {}) {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(path, toml);
  return { path, config: () => loadConfig({ env: {}, cwd: dir, ...options, configPath: path }) };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('defaults only, when no file and no env', () => {
  const c = loadConfig({ env: {}, cwd: dir });
  assert.equal(c.data, join(dir, 'data'));
  assert.equal(c.database_url, '');
  assert.deepEqual(c.listen.imap, { host: '127.0.0.1', port: 1143 });
  assert.deepEqual(c.listen.http, { host: '127.0.0.1', port: 8080 });
  assert.equal(c.limits.connections_per_ip, 50);
  assert.equal(c.limits.shutdown_timeout_ms, 10000);
  assert.equal(c.log.level, 'info');
  assert.equal(c.log.trace, false);
  assert.equal(c.delivery.large_part_threshold, 65536);
  assert.ok(c.hostname.length > 0);
});

test('./mailroom.toml in the working directory is read when no --config is given', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'mailroom-cwd-'));
  writeFileSync(join(cwd, 'mailroom.toml'), 'hostname = "mx.example.test"\n');
  assert.equal(loadConfig({ env: {}, cwd }).hostname, 'mx.example.test');
});

test('file values, and env wins over the file', () => {
  const f = withFile('data = "/srv/mail"\n[listen]\nimap = "[::1]:143"\npop3 = "off"\n[limits]\nconnections_per_ip = 7\n[log]\ntrace = true\n');
  const c = f.config();
  assert.equal(c.data, '/srv/mail');
  assert.deepEqual(c.listen.imap, { host: '::1', port: 143 });
  assert.equal(c.listen.pop3, 'off');
  assert.equal(c.limits.connections_per_ip, 7);
  assert.equal(c.log.trace, true);
  const e = withFile(readFileSync(f.path, 'utf8'), {
    env: { MAILROOM_IMAP: '0.0.0.0:1143', MAILROOM_LIMITS_CONNECTIONS_PER_IP: '9', MAILROOM_LOG_TRACE: '0', MAILROOM_DATA: '/env/data' },
  }).config();
  assert.deepEqual(e.listen.imap, { host: '0.0.0.0', port: 1143 });
  assert.equal(e.limits.connections_per_ip, 9);
  assert.equal(e.log.trace, false);
  assert.equal(e.data, '/env/data');
  assert.equal(e.listen.pop3, 'off', 'keys without env keep the file value');
});

test('overrides (--data) win over env and file', () => {
  const c = withFile('data = "/file"\n', { env: { MAILROOM_DATA: '/env' }, overrides: { data: '/cli' } }).config();
  assert.equal(c.data, '/cli');
});

test('env coercion: bools and ints', () => {
  const rows: [string, boolean][] = [['true', true], ['1', true], ['false', false], ['0', false]];
  for (const [text, want] of rows) assert.equal(loadConfig({ env: { MAILROOM_LOG_TRACE: text }, cwd: dir }).log.trace, want, text);
  assert.equal(loadConfig({ env: { MAILROOM_LARGE_PART_THRESHOLD: '1024' }, cwd: dir }).delivery.large_part_threshold, 1024);
  assert.equal(loadConfig({ env: { MAILROOM_LOG_TRACE: '' }, cwd: dir }).log.trace, false, 'empty env is unset');
});

test('bad values: one line naming key, source and expectation', () => {
  const envRows: [Record<string, string>, string][] = [
    [{ MAILROOM_IMAP: '12x' }, 'config error: listen.imap (MAILROOM_IMAP): expected host:port or "off", got "12x"'],
    [{ MAILROOM_SMTP: '127.0.0.1:70000' }, 'config error: listen.smtp (MAILROOM_SMTP): expected host:port or "off", got "127.0.0.1:70000"'],
    [{ MAILROOM_HTTP: '[127.0.0.1]:80' }, 'config error: listen.http (MAILROOM_HTTP): expected host:port or "off", got "[127.0.0.1]:80"'],
    [{ MAILROOM_LOG_TRACE: 'yes' }, 'config error: log.trace (MAILROOM_LOG_TRACE): expected true or false (env: true/false/1/0), got "yes"'],
    [{ MAILROOM_LIMITS_CONNECTIONS_PER_IP: '0' }, 'config error: limits.connections_per_ip (MAILROOM_LIMITS_CONNECTIONS_PER_IP): expected an integer >= 1, got 0'],
    [{ MAILROOM_LIMITS_SHUTDOWN_TIMEOUT_MS: '1.5' }, 'config error: limits.shutdown_timeout_ms (MAILROOM_LIMITS_SHUTDOWN_TIMEOUT_MS): expected an integer >= 0, got "1.5"'],
    [{ MAILROOM_LOG_LEVEL: 'loud' }, 'config error: log.level (MAILROOM_LOG_LEVEL): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ MAILROOM_TLS_CERT: '/x/cert.pem' }, 'config error: tls.key (MAILROOM_TLS_KEY): expected a file path, because the other of tls.cert/tls.key is set'],
  ];
  for (const [env, want] of envRows) assert.equal(errorOf(() => loadConfig({ env, cwd: dir })), want);

  const fileRows: [string, (path: string) => string][] = [
    ['[listen]\nimapp = "127.0.0.1:1"\n', (p) => `config error: unknown key "listen.imapp" (${p})`],
    ['colour = "blue"\n', (p) => `config error: unknown key "colour" (${p})`],
    ['[listen]\nimap = 143\n', (p) => `config error: listen.imap (${p}): expected host:port or "off", got 143`],
    ['[limits]\nconnections_per_ip = "many"\n', (p) => `config error: limits.connections_per_ip (${p}): expected an integer >= 1, got "many"`],
    ['[log]\ntrace = "true"\n', (p) => `config error: log.trace (${p}): expected true or false (env: true/false/1/0), got "true"`],
    ['listen = 5\n', (p) => `config error: listen (${p}): expected a table, got 5`],
    ['[listen]\nimap = 12x\n', (p) => `config error: ${p}: invalid TOML at line 2, column 10: illegal character in numeric literal`],
  ];
  for (const [toml, want] of fileRows) {
    const f = withFile(toml);
    assert.equal(errorOf(f.config), want(f.path), toml);
  }
});

test('--config that does not exist is an error', () => {
  assert.equal(
    errorOf(() => loadConfig({ env: {}, cwd: dir, configPath: '/nonexistent/mailroom.toml' })),
    'config error: cannot read config file /nonexistent/mailroom.toml: no such file',
  );
});

test('every key has an env name; listener env names match DESIGN.md', () => {
  const envs = leafKeys().map((l) => l.info.env);
  assert.equal(new Set(envs).size, envs.length, 'env names are unique');
  for (const name of ['IMAP', 'IMAPS', 'POP3', 'POP3S', 'SMTP', 'SUBMISSION', 'SUBMISSIONS', 'LMTP', 'HTTP', 'DATA', 'DATABASE_URL']) {
    assert.ok(envs.includes(`MAILROOM_${name}`), name);
  }
});

test('docs/config.md is what the schema generates', () => {
  const committed = readFileSync(join(repoRoot, 'docs/config.md'), 'utf8');
  assert.equal(committed, renderConfigDocs(), 'regenerate: node dist/src/config/gen-docs.js > docs/config.md');
});

test('the example in docs/config.md loads and equals the defaults', () => {
  const toml = /```toml\n([\s\S]*?)```/.exec(renderConfigDocs())?.[1] ?? '';
  const fromExample = withFile(toml).config();
  const defaults = loadConfig({ env: {}, cwd: dir });
  assert.deepEqual({ ...fromExample, hostname: '' }, { ...defaults, hostname: '' });
});

test('listen address parse/format round-trip (property)', () => {
  const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
  fc.assert(
    fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, port) => {
      const text = formatListenAddress({ host: h, port });
      assert.deepEqual(parseListenAddress(text), { host: h, port });
    }),
  );
  fc.assert(
    fc.property(fc.string(), (s) => {
      const a = parseListenAddress(s);
      if (a) assert.ok(a.port >= 0 && a.port <= 65535);
    }),
  );
});

test('loading arbitrary env values never throws anything but ConfigError (property)', () => {
  const names = leafKeys().map((l) => l.info.env);
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...names), fc.string()), (env) => {
      try {
        loadConfig({ env, cwd: dir });
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.ok(!err.message.includes('\n'));
      }
    }),
    { numRuns: 200 },
  );
});
