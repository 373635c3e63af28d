/**
 * The MIME corpus and its Dovecot recordings agree: every .eml has a well-formed .json whose
 * sizes match, so a broken or partial regeneration (scripts/record-dovecot-fixtures.sh)
 * fails CI instead of silently weakening the MIME comparison tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { repoRoot } from './harness/repo-root.js';

const base = `${repoRoot}/test/fixtures/mime`;
const corpusDir = `${base}/corpus`;
const dovecotDir = `${base}/dovecot`;

const FETCH_ITEMS = ['ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822.SIZE'] as const;
const TOP_SECTIONS = [
  'BODY[]',
  'BODY[HEADER]',
  'BODY[TEXT]',
  'BODY[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)]',
  'BODY[HEADER.FIELDS.NOT (RECEIVED)]',
];
const PART_ITEM = /^(BODY\[\d+(\.\d+)*(\.MIME|\.HEADER|\.TEXT)?\]|BINARY(\.SIZE)?\[\d+(\.\d+)*\])$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/**
 * Where Dovecot 2.3.19's BINARY.SIZE disagrees with the length of its own BINARY answer
 * (listed in the README); any other mismatch means a broken recording.
 */
const BINARY_SIZE_QUIRKS = new Set(['015-related-inline-images.eml BINARY.SIZE[2]']);

type SectionValue = string | null | { error: string };
interface Recording {
  file: string;
  size: number;
  fetch: Record<string, string>;
  sections: Record<string, SectionValue>;
  latin1?: string[];
}

const emls = readdirSync(corpusDir).filter((f) => f.endsWith('.eml')).sort();
const jsons = readdirSync(dovecotDir).filter((f) => f.endsWith('.json')).sort();

function load(eml: string): { bytes: Buffer; rec: Recording } {
  const bytes = readFileSync(`${corpusDir}/${eml}`);
  const rec = JSON.parse(readFileSync(`${dovecotDir}/${eml.replace(/\.eml$/, '.json')}`, 'utf8')) as Recording;
  return { bytes, rec };
}

/** The wire bytes of a fetch item (Latin-1 when the recorder had to fall back to it). */
function wireBytes(rec: Recording, item: string): Buffer {
  return Buffer.from(rec.fetch[item], rec.latin1?.includes(item) ? 'latin1' : 'utf8');
}

test('the corpus has at least 70 messages and every .eml has exactly one recording', () => {
  assert.ok(emls.length >= 70, `only ${emls.length} messages`);
  assert.deepEqual(jsons, emls.map((f) => f.replace(/\.eml$/, '.json')));
  for (const f of emls) assert.match(f, /^\d{3}-[a-z0-9-]+\.eml$/);
});

test('VERSION names the Dovecot that recorded', () => {
  assert.match(readFileSync(`${dovecotDir}/VERSION`, 'utf8'), /^\d+\.\d+\.\d+/);
});

test('every recording parses, matches its .eml size and has the fetch items and sections', () => {
  for (const eml of emls) {
    const { bytes, rec } = load(eml);
    assert.equal(rec.file, eml);
    assert.equal(rec.size, bytes.length, `${eml}: size`);
    for (const item of FETCH_ITEMS) assert.equal(typeof rec.fetch[item], 'string', `${eml}: ${item}`);
    assert.match(rec.fetch['RFC822.SIZE'], /^\d+$/, `${eml}: RFC822.SIZE`);
    for (const item of ['ENVELOPE', 'BODY', 'BODYSTRUCTURE']) {
      const wire = wireBytes(rec, item).toString('latin1');
      assert.ok(wire.startsWith('(') && wire.endsWith(')'), `${eml}: ${item} is not a list`);
    }
    for (const item of TOP_SECTIONS) assert.ok(item in rec.sections, `${eml}: ${item} missing`);
    for (const [item, value] of Object.entries(rec.sections)) {
      assert.ok(TOP_SECTIONS.includes(item) || PART_ITEM.test(item), `${eml}: odd item ${item}`);
      if (typeof value === 'string') assert.match(value, BASE64, `${eml}: ${item} is not base64`);
      else if (value !== null) assert.equal(typeof value.error, 'string', `${eml}: ${item}`);
    }
    assert.ok(Object.keys(rec.sections).some((k) => k.startsWith('BODY[1')), `${eml}: no part 1`);
  }
});

test('RFC822.SIZE is the length of the recorded BODY[] and BINARY.SIZE that of BINARY', () => {
  for (const eml of emls) {
    const { rec } = load(eml);
    const whole = rec.sections['BODY[]'];
    assert.equal(typeof whole, 'string', `${eml}: BODY[]`);
    assert.equal(Buffer.from(whole as string, 'base64').length, Number(rec.fetch['RFC822.SIZE']), eml);
    for (const [item, value] of Object.entries(rec.sections)) {
      const m = /^BINARY\.SIZE(\[.*\])$/.exec(item);
      const binary = m ? rec.sections[`BINARY${m[1]}`] : undefined;
      if (typeof value !== 'string' || typeof binary !== 'string' || BINARY_SIZE_QUIRKS.has(`${eml} ${item}`)) continue;
      const size = Buffer.from(value, 'base64').toString('ascii');
      assert.equal(Number(size), Buffer.from(binary, 'base64').length, `${eml}: ${item}`);
    }
  }
});

test('the README lists exactly the messages whose BODY[] differs from the .eml', () => {
  const readme = readFileSync(`${base}/README.md`, 'utf8');
  const block = /<!-- non-identical:begin -->([\s\S]*)<!-- non-identical:end -->/.exec(readme);
  assert.ok(block, 'README has no non-identical block');
  const listed = [...block[1].matchAll(/^- `([^`]+\.eml)`/gm)].map((m) => m[1]).sort();
  const differing = emls.filter((eml) => {
    const { bytes, rec } = load(eml);
    return !Buffer.from(rec.sections['BODY[]'] as string, 'base64').equals(bytes);
  });
  assert.deepEqual(listed, differing);
});
