import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCacheDir } from './compile-cache.js';

const uid = process.getuid!();

function withBase(fn: (base: string) => void): void {
  const base = mkdtempSync(join(tmpdir(), 'mailroom-cc-test-'));
  try {
    fn(base);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

test('a missing cache directory is made, private to this user', () =>
  withBase((base) => {
    const dir = compileCacheDir(base, uid);
    assert.equal(dir, join(base, `mailroom-compile-cache-${uid}`));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(compileCacheDir(base, uid), dir, 'and used again');
  }));

test('a cache directory others may write, a link or a file is not used', () =>
  withBase((base) => {
    const dir = join(base, `mailroom-compile-cache-${uid}`);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    assert.equal(compileCacheDir(base, uid), undefined, 'world-writable');
    chmodSync(dir, 0o720);
    assert.equal(compileCacheDir(base, uid), undefined, 'group-writable');
    rmSync(dir, { recursive: true });
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, dir);
    assert.equal(compileCacheDir(base, uid), undefined, 'a symlink');
  }));

test("another user's cache directory is not used", () =>
  withBase((base) => {
    // The directory is ours; asked for as another uid, its owner does not match.
    mkdirSync(join(base, `mailroom-compile-cache-${uid + 1}`), { mode: 0o700 });
    assert.equal(compileCacheDir(base, uid + 1), undefined);
  }));
