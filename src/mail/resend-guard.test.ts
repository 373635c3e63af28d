import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageIdOf, resendKey, ResendGuard } from './resend-guard.js';

test('messageIdOf: the header field, unfolded; only in the header block', () => {
  const rows: [string, string | undefined][] = [
    ['Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody', '<a@b>'],
    ['message-id:<a@b>\r\n\r\n', '<a@b>'],
    ['Subject: x\r\nMessage-ID:\r\n <folded@b>\r\n\r\n', '<folded@b>'],
    ['Subject: x\r\n\r\nMessage-ID: <in-body@b>\r\n', undefined],
    ['Subject: x\r\nX-Message-ID: <other@b>\r\n\r\n', undefined],
    ['Message-ID:   \r\n\r\n', undefined],
    ['Message-ID: <no-body@b>\r\n', '<no-body@b>'],
  ];
  for (const [head, want] of rows) assert.equal(messageIdOf(Buffer.from(head)), want, JSON.stringify(head));
});

test('resendKey: submission by user; MX/LMTP by IP, sender and recipients (in any order); none without Message-ID', () => {
  const base = { messageId: '<m@x>', remoteAddress: '192.0.2.1', mailFrom: 'a@x', recipients: ['b@y', 'c@y'] };
  const sub = resendKey({ ...base, mode: 'submission', userId: 7 });
  assert.equal(sub, resendKey({ ...base, mode: 'submission', userId: 7, remoteAddress: '198.51.100.9', recipients: ['z@y'] }));
  assert.notEqual(sub, resendKey({ ...base, mode: 'submission', userId: 8 }));
  const mx = resendKey({ ...base, mode: 'mx' });
  assert.equal(mx, resendKey({ ...base, mode: 'mx', recipients: ['C@y', 'b@y'] }));
  assert.notEqual(mx, resendKey({ ...base, mode: 'mx', remoteAddress: '192.0.2.2' }));
  assert.notEqual(mx, resendKey({ ...base, mode: 'mx', mailFrom: 'other@x' }));
  assert.notEqual(mx, resendKey({ ...base, mode: 'mx', recipients: ['b@y'] }));
  assert.notEqual(mx, resendKey({ ...base, mode: 'mx', messageId: '<n@x>' }));
  assert.equal(resendKey({ ...base, mode: 'mx', messageId: undefined }), undefined);
});

test('ResendGuard: remembers within the window, forgets after it, stays bounded, off at 0', () => {
  let now = 1000;
  const g = new ResendGuard(60_000, 3, () => now);
  assert.equal(g.earlier('k1'), undefined);
  g.remember('k1', 'id1');
  assert.equal(g.earlier('k1'), 'id1');
  assert.equal(g.earlier(undefined), undefined);
  now += 59_999;
  assert.equal(g.earlier('k1'), 'id1');
  now += 1;
  assert.equal(g.earlier('k1'), undefined);
  for (const k of ['a', 'b', 'c', 'd']) g.remember(k, `id-${k}`);
  assert.equal(g.size, 3);
  assert.equal(g.earlier('a'), undefined); // the oldest went first
  assert.equal(g.earlier('d'), 'id-d');
  const off = new ResendGuard(0);
  off.remember('k', 'id');
  assert.equal(off.earlier('k'), undefined);
});
