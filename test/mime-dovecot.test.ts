/**
 * Mailroom's MIME index against Dovecot 2.3's recorded answers, byte for byte, for every
 * corpus message: ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE and every recorded section.
 * A deliberate difference must be listed in test/fixtures/mime/differences.json with the
 * exact value Mailroom gives; any other difference fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { indexMessage } from '../src/mime/index-message.js';
import { sectionItem } from './helpers/mime-items.js';
import type { MessageIndex } from '../src/mime/types.js';
import { formatEnvelope } from '../src/imap/protocol/envelope.js';
import { formatBodyStructure } from '../src/imap/protocol/body-structure.js';

/** Compiled to dist/test/, so the repository root is two levels up. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/mime');

interface Fixture {
  file: string;
  size: number;
  fetch: Record<string, string>;
  sections: Record<string, string | null | { error: string }>;
  latin1?: string[];
}

type Differences = Record<string, Record<string, { mailroom: string | null; reason: string }>>;

function fetchItem(raw: Buffer, index: MessageIndex, item: string): string {
  switch (item) {
    case 'ENVELOPE':
      return formatEnvelope(index.envelope);
    case 'BODY':
      return formatBodyStructure(index.body, false);
    case 'BODYSTRUCTURE':
      return formatBodyStructure(index.body, true);
    case 'RFC822.SIZE':
      return String(index.size);
    default:
      throw new Error(`unknown item ${item}`);
  }
}

function sameError(expected: unknown, actual: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) return false;
  const e = (expected as { error: string }).error;
  const a = (actual as { error: string }).error;
  return e.startsWith(a);
}

const names = readdirSync(join(FIXTURES, 'dovecot')).filter((f) => f.endsWith('.json')).sort();
const differences: Differences = JSON.parse(readFileSync(join(FIXTURES, 'differences.json'), 'utf8'));

test('the Dovecot fixtures are there', () => {
  assert.ok(names.length >= 60, `only ${names.length} fixtures`);
});

for (const name of names) {
  const fx: Fixture = JSON.parse(readFileSync(join(FIXTURES, 'dovecot', name), 'utf8'));
  const key = name.replace(/\.json$/, '');
  const listed = differences[key] ?? {};
  test(`Dovecot agrees: ${key}`, () => {
    const raw = readFileSync(join(FIXTURES, 'corpus', fx.file));
    const index = indexMessage(raw);
    for (const [item, text] of Object.entries(fx.fetch)) {
      const expected = listed[item]?.mailroom ?? text;
      const ours = fetchItem(raw, index, item);
      const oursText = fx.latin1?.includes(item) ? ours : Buffer.from(ours, 'latin1').toString('utf8');
      assert.equal(oursText, expected, `${key} ${item}`);
    }
    for (const [item, value] of Object.entries(fx.sections)) {
      const expected = item in listed ? listed[item].mailroom : value;
      const ours = sectionItem(raw, index, item);
      if (typeof expected === 'object' && expected !== null) assert.ok(sameError(expected, ours), `${key} ${item}: ${JSON.stringify(ours)}`);
      else assert.equal(ours, expected, `${key} ${item}`);
    }
  });
}

test('every listed difference names a fixture and an item that exist', () => {
  for (const [key, items] of Object.entries(differences)) {
    const fx: Fixture = JSON.parse(readFileSync(join(FIXTURES, 'dovecot', `${key}.json`), 'utf8'));
    for (const item of Object.keys(items)) assert.ok(item in fx.fetch || item in fx.sections, `${key} ${item}`);
  }
});
