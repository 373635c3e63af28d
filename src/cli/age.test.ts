import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAge } from './age.js';

const NOW = new Date('2026-11-29T06:00:00Z');

test('parseAge: units and dates', () => {
  const cases: [string, string][] = [
    ['2y', '2024-11-29T06:00:00.000Z'],
    ['18m', '2025-05-29T06:00:00.000Z'],
    ['6w', '2026-10-18T06:00:00.000Z'],
    ['90d', '2026-08-31T06:00:00.000Z'],
    [' 1Y ', '2025-11-29T06:00:00.000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
  ];
  for (const [text, want] of cases) assert.equal(parseAge(text, NOW).toISOString(), want, text);
  for (const bad of ['', '2', 'y', '2x', '-1d', 'soon', '2024-13-45']) assert.throws(() => parseAge(bad, NOW), /expected an age/, bad);
});
