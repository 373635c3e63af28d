// SORT and THREAD answers compared with Dovecot's on a generated corpus (ties, missing and broken dates,
// RFC 2047 subjects and names, "Re: [list] Fwd:" and "[fwd: ...]" subjects, groups, empty
// headers), through python imaplib: test/fixtures/sort/sort_client.py ran once against
// Dovecot 2.3.19.1 (record-dovecot.sh) and runs here against Mailroom.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/repo-root.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

const dir = join(repoRoot, 'test', 'fixtures', 'sort');
type Answers = Record<string, unknown> & { capabilities: string[]; errors: Record<string, string> };

function runClient(port: number, user: string, pass: string): Promise<Answers> {
  const out = join(mkdtempSync(join(tmpdir(), 'mailroom-sort-')), 'answers.json');
  return new Promise((resolve, reject) => {
    execFile('python3', [join(dir, 'sort_client.py'), '127.0.0.1', String(port), user, pass, out], { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) return reject(new Error(`sort_client.py failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(readFileSync(out, 'utf8')) as Answers);
    });
  });
}

describe('SORT and THREAD equal Dovecot on the generated corpus (python imaplib)', () => {
  let server: RunningTestServer;
  let ours: Answers;
  const dovecot = JSON.parse(readFileSync(join(dir, 'dovecot.json'), 'utf8')) as Answers;
  before(async () => {
    server = await startServer();
    const r = await runCli(['user', 'add', 'sorter@example.test', '--password', 'pw-sort'], { dataDir: server.dataDir });
    assert.equal(r.code, 0, r.stderr);
    ours = await runClient(server.ports.imap!, 'sorter@example.test', 'pw-sort');
  });
  after(async () => {
    await server?.stop();
  });

  const commands = Object.keys(dovecot).filter((k) => (k.includes('SORT') || k.includes('THREAD')) && k !== 'capabilities');
  test('the fixture covers every sort key, REVERSE, UID SORT and ESORT', () => {
    assert.ok(commands.length >= 30, String(commands.length));
    for (const k of ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']) assert.ok(commands.some((c) => c.includes(`(${k})`)), k);
  });
  for (const cmd of commands) {
    test(cmd, () => {
      assert.deepEqual(ours[cmd], dovecot[cmd]);
    });
  }
  test('SORT and THREAD capabilities as Dovecot advertises them', () => {
    const sortCaps = (caps: string[]) => caps.filter((c) => /^(E?SORT|THREAD)/.test(c));
    assert.deepEqual(sortCaps(ours.capabilities), sortCaps(dovecot.capabilities));
  });
  test('malformed SORT commands are BAD, as in Dovecot', () => {
    assert.deepEqual(ours.errors, dovecot.errors);
  });
});
