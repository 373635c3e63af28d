import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ratio, renderReport } from './report.js';

describe('bench report', () => {
  it('ratios say how many times as good as the peer, for rates and latencies', () => {
    const rows: [number, number, boolean, number | undefined][] = [
      [200, 100, true, 2],
      [50, 100, true, 0.5],
      [10, 20, false, 2],
      [40, 20, false, 0.5],
      [0, 20, true, undefined],
      [10, 0, false, undefined],
    ];
    for (const [ours, peer, higher, want] of rows) assert.equal(ratio(ours, peer, higher), want, `${ours} vs ${peer}`);
  });

  it('renders a row per figure with the peer from the same result, and says when a peer was not measured', () => {
    const page = renderReport(
      {
        imap: { mailroom: { commandsPerSecond: 300 }, dovecot: { commandsPerSecond: 150 } },
        login: { mailroom: { imap: { warm: { median: 2 }, cold: { median: 600 } }, pop3: { warm: { median: 20 } } }, dovecot: { skipped: 'x' } },
        custom: { anything: 1 },
      },
      new Date('2026-11-28T00:00:00Z'),
      '2 cores',
    );
    assert.match(page, /^# Benchmarks 2026-11-28$/m);
    assert.match(page, /\| imap \| IMAP mix, commands\/s \| 300 cmd\/s \| Dovecot \| 150 cmd\/s \| 2\.00 \|/);
    assert.match(page, /\| login \| IMAP LOGIN, repeated, median \| 2 ms \| Dovecot \| not measured in this run \| {2}\|/);
    assert.match(page, /\| custom \| see bench\/results\/custom\.json \|/);
  });

  it('keeps the rows of workloads this run did not measure from the same day\'s page, and replaces the others', () => {
    const earlier = renderReport(
      { imap: { mailroom: { commandsPerSecond: 100 } }, custom: { anything: 1 } },
      new Date('2026-11-28T00:00:00Z'),
      'first run',
    );
    const page = renderReport({ imap: { mailroom: { commandsPerSecond: 300 } } }, new Date('2026-11-28T00:00:00Z'), 'second run', earlier);
    assert.match(page, /^second run\./m);
    assert.doesNotMatch(page, /first run/);
    assert.match(page, /\| imap \| IMAP mix, commands\/s \| 300 cmd\/s \|/);
    assert.doesNotMatch(page, /100 cmd\/s/);
    assert.match(page, /\| custom \| see bench\/results\/custom\.json \|/);
    assert.match(page, /Rows of custom are from an earlier run/);
    assert.equal(page.match(/\| workload \|/g)?.length, 1);
  });
});
