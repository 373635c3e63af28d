// The admin page over real HTTP (issue 15): sign-in required, CSRF refused, hostile names
// escaped, cookies locked down, and the failed logins it lists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';
import { AdminClient } from './admin-client.js';

let server: RunningTestServer;
let base: string;

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  server = await startServer();
  base = `http://127.0.0.1:${server.ports.http}`;
  await cli('user', 'add', 'root@example.test', '--password', 'admin-secret');
  await cli('user', 'set', 'root@example.test', 'admin=yes');
  await cli('user', 'add', 'plain@example.test', '--password', 'plain-secret');
});
after(async () => {
  await server?.stop();
});

async function signedIn(): Promise<AdminClient> {
  const c = new AdminClient(base);
  const r = await c.signIn('root@example.test', 'admin-secret');
  assert.equal(r.status, 303);
  assert.equal(r.location, '/admin');
  return c;
}

describe('admin page: sign-in required', () => {
  test('every page redirects to the sign-in form without a session; a POST is refused and changes nothing', async () => {
    const c = new AdminClient(base);
    for (const path of ['/admin', '/admin/users', '/admin/domains', '/admin/aliases', '/admin/queue', '/admin/logins', '/admin/user?address=root@example.test']) {
      const r = await c.get(path);
      assert.equal(r.status, 303, path);
      assert.equal(r.location, '/admin/login');
      assert.doesNotMatch(r.body, /root@example\.test/);
    }
    const r = await c.request('POST', '/admin/users/add', { _csrf: 'x', address: 'sneaky@example.test', password: 'pw' });
    assert.equal(r.status, 403);
    assert.doesNotMatch(await cli('user', 'list'), /sneaky/);
    // /healthz and unknown paths are as before.
    assert.equal((await c.get('/healthz')).status, 200);
    assert.equal((await c.get('/administrator')).status, 404);
  });

  test('a wrong password, an unknown user and a non-admin account are refused alike, and listed as failed logins', async () => {
    for (const [user, pw] of [['root@example.test', 'wrong'], ['nobody@example.test', 'x'], ['plain@example.test', 'plain-secret']]) {
      const c = new AdminClient(base);
      const r = await c.signIn(user, pw);
      assert.equal(r.status, 200, user);
      assert.match(r.body, /Wrong address or password, or not a server admin\./);
      assert.equal(c.jar.has('mailroom_admin'), false);
    }
    const c = await signedIn();
    const page = await c.get('/admin/logins');
    assert.match(page.body, /<td>nobody@example\.test \(no such account\)<\/td><td>admin<\/td><td>127\.0\.0\.1<\/td><td>-<\/td><td>invalid<\/td>/);
    assert.match(page.body, /<td>plain@example\.test<\/td><td>admin<\/td><td>127\.0\.0\.1<\/td><td>-<\/td><td>not-admin<\/td>/);
  });

  test('the session cookie is HttpOnly, SameSite=Strict, scoped to /admin; logging out ends the session', async () => {
    const c = new AdminClient(base);
    const r = await c.signIn('root@example.test', 'admin-secret');
    const session = r.cookies.find((x) => x.startsWith('mailroom_admin='))!;
    assert.match(session, /; Path=\/admin; HttpOnly; SameSite=Strict$/, 'no Secure on plain loopback HTTP');
    const token = c.jar.get('mailroom_admin')!;
    const out = await c.post('/admin', '/admin/logout', {});
    assert.equal(out.status, 303);
    assert.equal(out.location, '/admin/login');
    const replay = new AdminClient(base);
    replay.jar.set('mailroom_admin', token);
    assert.equal((await replay.get('/admin')).status, 303, 'the old token no longer works');
  });
});

describe('admin page: CSRF', () => {
  test('a POST without the token, with a wrong one, or from another origin is refused and changes nothing', async () => {
    const c = await signedIn();
    const good = await c.csrf('/admin/users');
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no token', { address: 'csrf1@example.test', password: 'pw' }, {}],
      ['a wrong token', { _csrf: good.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')), address: 'csrf2@example.test', password: 'pw' }, {}],
      ['another origin', { _csrf: good, address: 'csrf3@example.test', password: 'pw' }, { origin: 'http://evil.example' }],
      ['a cross-site fetch', { _csrf: good, address: 'csrf4@example.test', password: 'pw' }, { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [name, form, headers] of attempts) {
      const r = await c.request('POST', '/admin/users/add', form, headers);
      assert.equal(r.status, 403, name);
      assert.match(r.body, /CSRF/);
    }
    assert.doesNotMatch(await cli('user', 'list'), /csrf\d@/);
    const ok = await c.request('POST', '/admin/users/add', { _csrf: good, address: 'csrf5@example.test', password: 'pw' }, { origin: base });
    assert.equal(ok.status, 303);
    assert.match(await cli('user', 'list'), /csrf5@example\.test/);
  });

  test('the sign-in form needs its own token too (login CSRF)', async () => {
    const c = new AdminClient(base);
    const r = await c.request('POST', '/admin/login', { _csrf: 'made-up', username: 'root@example.test', password: 'admin-secret' });
    assert.equal(r.status, 403);
    assert.equal(c.jar.has('mailroom_admin'), false);
  });

  test('a GET never changes anything', async () => {
    const c = await signedIn();
    const r = await c.get('/admin/users/delete?address=csrf5@example.test');
    assert.equal(r.status, 404, 'an action is no page');
    assert.match(await cli('user', 'list'), /csrf5@example\.test/);
  });
});

describe('admin page: escaping', () => {
  test('a hostile member, device and login name are shown as text, never as markup', async () => {
    const hostile = `<script>alert("x")</script>&'`;
    await cli('member', 'add', 'root@example.test', `<img src=x onerror=alert(1)>`);
    await cli('device', 'add', 'root@example.test', '--member', 'owner', '--name', hostile);
    // A failed mail login with a hostile name (no such account): it reaches the failed-logins page.
    const t = await connect(server.ports.imap!);
    await t.readLine();
    t.send(`a LOGIN "<b onmouseover=alert(2)>@example.test" "pw"\r\n`);
    await t.readUntil(/a (NO|BAD)[^\r]*\r\n/);
    t.socket.destroy();

    const c = await signedIn();
    const user = await c.get('/admin/user?address=root@example.test');
    assert.equal(user.status, 200);
    assert.doesNotMatch(user.body, /<script>|<img src=x/);
    assert.match(user.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;/);
    assert.match(user.body, /&lt;img src=x onerror=alert\(1\)&gt;/);
    const logins = await c.get('/admin/logins');
    assert.doesNotMatch(logins.body, /<b onmouseover/);
    assert.match(logins.body, /&lt;b onmouseover=alert\(2\)&gt;@example\.test/);
    // The message of an action is escaped too.
    const flash = await c.get(`/admin/users?error=${encodeURIComponent('<i>boom</i>')}`);
    assert.match(flash.body, /&lt;i&gt;boom&lt;\/i&gt;/);
    assert.equal(flash.body.includes('<i>boom'), false);
    // And the pages forbid inline script outright.
    const res = await fetch(`${base}/admin/login`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});

describe('admin page: members and devices', () => {
  test('revoking a device on the user page ends its open IMAP session at once and refuses its next login', async () => {
    await cli('user', 'add', 'family@example.test', '--password', 'family-secret');
    const out = await cli('device', 'add', 'family@example.test', '--member', 'owner', '--name', 'Old phone');
    const password = out.trimEnd().split('\n').pop()!;
    const t = await connect(server.ports.imap!, { timeoutMs: 15_000 });
    await t.readLine();
    t.send(`a LOGIN family@example.test "${password}"\r\nb SELECT INBOX\r\nc IDLE\r\n`);
    await t.readUntil(/\+ [^\r]*\r\n/);

    const c = await signedIn();
    const page = await c.get('/admin/user?address=family@example.test');
    assert.match(page.body, /<td>Old phone<\/td><td>owner<\/td>/);
    const r = await c.post('/admin/user?address=family@example.test', '/admin/user/revoke', { address: 'family@example.test', device: 'Old phone' });
    assert.equal(r.status, 303);
    assert.equal(r.location, `/admin/user?address=family%40example.test&msg=${encodeURIComponent('revoked device Old phone of family@example.test').replace(/%20/g, '+')}`);
    assert.match(await t.readUntil(/\* BYE[^\r]*\r\n/), /\* BYE/);
    t.socket.destroy();
    const again = await connect(server.ports.imap!);
    await again.readLine();
    again.send(`a LOGIN family@example.test "${password}"\r\n`);
    assert.match(await again.readUntil(/a (OK|NO)[^\r]*\r\n/), /a NO/);
    again.socket.destroy();
    assert.doesNotMatch((await c.get('/admin/user?address=family@example.test')).body, /Old phone/);
    // Revoking it again fails, and says so on the same user's page.
    const twice = await c.post('/admin/user?address=family@example.test', '/admin/user/revoke', { address: 'family@example.test', device: 'Old phone' });
    const back = new URL(twice.location!, 'http://x');
    assert.equal(back.searchParams.get('address'), 'family@example.test');
    assert.match(back.searchParams.get('error') ?? '', /no device Old phone/);
    const shown = await c.get(`${back.pathname}${back.search}`);
    assert.match(shown.body, /class="flash error" role="status">no device Old phone/);
    assert.match(shown.body, /<h2>family@example\.test<\/h2>/);
  });
});

describe('admin page: domains and aliases', () => {
  test('add a domain and an alias, see them listed, delete them; a domain with users cannot go', async () => {
    const c = await signedIn();
    const flash = (r: { location: string | null }) => new URL(r.location!, base).searchParams;
    assert.equal(flash(await c.post('/admin/domains', '/admin/domains/add', { name: 'Lists.Example.TEST' })).get('msg'), 'added domain lists.example.test');
    assert.match((await c.get('/admin/domains')).body, /<td>lists\.example\.test<\/td><td>0<\/td>/);
    assert.equal(flash(await c.post('/admin/aliases', '/admin/aliases/add', { source: 'team@lists.example.test', target: 'root@example.test' })).get('msg'), 'added alias team@lists.example.test → root@example.test');
    assert.match((await c.get('/admin/aliases')).body, /<td>team@lists\.example\.test<\/td><td>root@example\.test<\/td>/);
    assert.match(await cli('alias', 'list'), /team@lists\.example\.test/);
    const refused = flash(await c.post('/admin/domains', '/admin/domains/delete', { name: 'example.test' })).get('error');
    assert.ok(refused && refused.length > 0, 'a domain with users is refused with a message');
    assert.match((await c.get('/admin/domains')).body, /<td>example\.test<\/td>/);
    assert.equal(flash(await c.post('/admin/aliases', '/admin/aliases/delete', { source: 'team@lists.example.test', target: 'root@example.test' })).get('msg'), 'deleted alias team@lists.example.test');
    assert.equal(flash(await c.post('/admin/domains', '/admin/domains/delete', { name: 'lists.example.test' })).get('msg'), 'deleted domain lists.example.test');
    assert.doesNotMatch((await c.get('/admin/domains')).body, /lists\.example\.test/);
    const bad = flash(await c.post('/admin/users', '/admin/users/quota', { address: 'root@example.test', storage: 'lots' })).get('error');
    assert.match(bad ?? '', /invalid size "lots"/);
  });
});
