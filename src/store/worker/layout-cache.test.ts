import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LayoutCache } from './layout-cache.js';
import type { ContentLayout } from './wire.js';

const file = (size: number): ContentLayout => ({ size, segments: [{ hash: 'f'.repeat(64), size }] });
const inline = (size: number): ContentLayout => ({ size, segments: [{ hash: 'a'.repeat(64), size, bytes: Buffer.alloc(size) }] });

describe('LayoutCache', () => {
  const cases: { name: string; max: [number, number]; steps: [string, ContentLayout][]; held: string[]; bytes: number }[] = [
    { name: 'file layouts up to the count', max: [2, 100], steps: [['a', file(5)], ['b', file(5)], ['c', file(5)]], held: ['b', 'c'], bytes: 0 },
    { name: 'inline bytes bounded: the oldest go', max: [10, 100], steps: [['a', inline(40)], ['b', inline(40)], ['c', inline(40)]], held: ['b', 'c'], bytes: 80 },
    { name: 'a layout larger than the byte bound is not held', max: [10, 100], steps: [['a', inline(40)], ['big', inline(101)]], held: ['a'], bytes: 40 },
    { name: 'setting an id again replaces it (bytes counted once)', max: [10, 100], steps: [['a', inline(40)], ['a', inline(30)]], held: ['a'], bytes: 30 },
    { name: 'file layouts take no bytes', max: [10, 50], steps: [['a', inline(50)], ['f', file(1000)]], held: ['a', 'f'], bytes: 50 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cache = new LayoutCache(...c.max);
      for (const [id, l] of c.steps) cache.set(id, l);
      assert.deepEqual(['a', 'b', 'c', 'f', 'big'].filter((id) => cache.get(id) !== undefined), c.held);
      assert.equal(cache.heldInlineBytes, c.bytes);
    });
  }

  it('delete and dropInline release bytes; file layouts survive dropInline', () => {
    const cache = new LayoutCache(10, 1000);
    cache.set('a', inline(10));
    cache.set('b', inline(20));
    cache.set('f', file(30));
    cache.delete('a');
    assert.equal(cache.heldInlineBytes, 20);
    cache.dropInline();
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('f'));
    assert.equal(cache.heldInlineBytes, 0);
    assert.equal(cache.size, 1);
  });
});
