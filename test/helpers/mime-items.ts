/**
 * Mailroom's answers to the items recorded from Dovecot (test/fixtures/mime/dovecot/*.json).
 */
import type { MessageIndex } from '../../src/mime/types.js';
import { binarySection, resolveSection, sectionBytes } from '../../src/mime/sections.js';

/** Mailroom's answer to one recorded section item: base64, null (NIL) or {error}. */
export function sectionItem(raw: Buffer, index: MessageIndex, item: string): string | null | { error: string } {
  const m = /^(BODY|BINARY|BINARY\.SIZE)\[(.*)\]$/s.exec(item);
  if (!m) throw new Error(`unknown section item ${item}`);
  if (m[1] === 'BODY') {
    const answer = resolveSection(index, m[2]);
    if (answer === null) return { error: 'BAD' };
    return sectionBytes(raw, answer).toString('base64');
  }
  const path = m[2] === '' ? [] : m[2].split('.').map(Number);
  const bin = binarySection(raw, index, path);
  if (!bin.ok) return { error: `NO [${bin.code}]` };
  return m[1] === 'BINARY' ? bin.bytes.toString('base64') : Buffer.from(String(bin.bytes.length)).toString('base64');
}

