// The admin page in a real headless Chromium (issue 15), as an administrator uses it:
// sign in, add a user, see it listed, change its quota, log out. Screenshots of each step
// go to the test output directory (MAILROOM_TEST_OUTPUT, default test-output/ in the
// repository); their paths are printed. Skips only when Chromium is not installed
// (Debian package `chromium`; CI installs it from .ci/apt-packages).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '../harness/repo-root.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find((p) => existsSync(p));
const outDir = join(process.env.MAILROOM_TEST_OUTPUT ?? join(repoRoot, 'test-output'), 'admin-browser');

let server: RunningTestServer;
let browser: Browser | undefined;

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  if (!CHROMIUM) return;
  server = await startServer();
  await cli('user', 'add', 'root@example.test', '--password', 'admin-secret');
  await cli('user', 'set', 'root@example.test', 'admin=yes');
  // Running as root (CI) needs --no-sandbox; nothing but this test's own pages is loaded.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('Chromium: sign in, add a user, see it listed, change its quota, log out', { skip: CHROMIUM ? false : 'chromium is not installed (apt-get install chromium); CI installs it' }, async (t) => {
  mkdirSync(outDir, { recursive: true });
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const shot = async (name: string) => {
    const path = join(outDir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
    console.log(`screenshot: ${path}`);
  };
  const base = `http://127.0.0.1:${server.ports.http}`;

  await page.goto(`${base}/admin/users`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'signed out: the sign-in form');
  await shot('01-sign-in');
  await page.getByLabel('Address').fill('root@example.test');
  await page.getByLabel('Password').fill('admin-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`, { timeout: 5000 }).catch(async (e: unknown) => {
    await shot('01b-after-sign-in');
    throw new Error(`${(e as Error).message}; at ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
  });
  assert.equal(await page.locator('h1').textContent(), 'Server status');
  await shot('02-status');

  await page.getByRole('link', { name: 'Users' }).click();
  await page.waitForURL(`${base}/admin/users`);
  const add = page.locator('form[action="/admin/users/add"]');
  await add.getByLabel('Address').fill('walk@example.test');
  await add.getByLabel('Password').fill('walk-secret');
  await add.getByLabel('Storage quota').fill('100M');
  await add.getByRole('button', { name: 'Add user' }).click();
  await page.waitForURL(/\/admin\/users\?msg=/);
  assert.equal(await page.getByRole('status').textContent(), 'added user walk@example.test');
  const row = page.locator('tr', { has: page.getByRole('link', { name: 'walk@example.test' }) });
  assert.equal(await row.count(), 1, 'the new user is listed');
  assert.equal(await row.getByLabel('storage quota for walk@example.test').inputValue(), '100M');
  await shot('03-user-added');

  await row.getByLabel('storage quota for walk@example.test').fill('2G');
  await row.getByLabel('message quota for walk@example.test').fill('5000');
  await row.getByRole('button', { name: 'set quota for walk@example.test' }).click();
  await page.waitForURL(/\/admin\/users\?msg=quota/);
  assert.equal(await page.getByRole('status').textContent(), 'quota for walk@example.test: storage 2G, messages 5000');
  assert.equal(await page.getByLabel('storage quota for walk@example.test').inputValue(), '2G');
  await shot('04-quota-changed');
  assert.match(await cli('quota', 'show', 'walk@example.test'), /^storage\t0\t2147483648\t/m, 'the store has the new quota');
  assert.match(await cli('quota', 'show', 'walk@example.test'), /^messages\t0\t5000$/m);

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${base}/admin/login`);
  await shot('05-logged-out');
  await page.goto(`${base}/admin/users`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'logged out: the pages need signing in again');
  assert.deepEqual(errors, [], 'no script errors');
  await page.close();
});
