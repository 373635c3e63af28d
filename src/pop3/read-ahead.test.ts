import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { READ_AHEAD_MAX, ReadAhead } from './read-ahead.js';

/** A store whose contents are their ids' bytes in two chunks; "bad" fails; opens are counted. */
function fakeStore() {
  const opened: string[] = [];
  return {
    opened,
    async openContent(id: string): Promise<Readable> {
      opened.push(id);
      if (id === 'bad') throw new Error('blob gone');
      return Readable.from([Buffer.from(`${id}:`), Buffer.from('body')]);
    },
  };
}

describe('ReadAhead', () => {
  it('hands the bytes read ahead to the RETR of that content, once', async () => {
    const store = fakeStore();
    const ahead = new ReadAhead(store);
    ahead.start('c2', 100);
    assert.deepEqual(Buffer.concat((await ahead.take('c2'))!).toString(), 'c2:body');
    assert.equal(await ahead.take('c2'), null, 'taken bytes are forgotten');
    assert.deepEqual(store.opened, ['c2']);
  });

  it('another content asked for: nothing (the RETR reads it the usual way), and the held bytes are dropped', async () => {
    const ahead = new ReadAhead(fakeStore());
    ahead.start('c2', 100);
    assert.equal(await ahead.take('c9'), null);
    assert.equal(await ahead.take('c2'), null);
  });

  it('a failed read is null, never a rejection; large messages are not read ahead', async () => {
    const store = fakeStore();
    const ahead = new ReadAhead(store);
    ahead.start('bad', 100);
    assert.equal(await ahead.take('bad'), null);
    ahead.start('big', READ_AHEAD_MAX + 1);
    assert.equal(await ahead.take('big'), null);
    assert.deepEqual(store.opened, ['bad']);
  });

  it('clear drops what is held', async () => {
    const ahead = new ReadAhead(fakeStore());
    ahead.start('c3', 10);
    ahead.clear();
    assert.equal(await ahead.take('c3'), null);
  });
});
