import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemorySnapshotStore } from './memory-snapshot-store';
import { describeSnapshotStore } from './snapshot-store.contract';

// The suite waits out lock expiries in real time, so the store runs on the real clock here.
describeSnapshotStore('memory', async () => ({
  store: new MemorySnapshotStore(),
  close: async () => undefined,
}));

describe('MemorySnapshotStore spec helpers', () => {
  it('damages a block in place and reports block stats', async () => {
    const store = new MemorySnapshotStore();
    const address = createHash('sha256').update('x').digest('hex');
    await store.putBlock('j1', address, Buffer.from('abc'));
    store.damageBlock('j1', address, (b) => b.subarray(0, 2));
    assert.equal(Buffer.from(await store.getBlock('j1', address)).toString(), 'ab');
    assert.deepEqual(store.blockStats('j1'), { blocks: 1, bytes: 2 });
    assert.throws(() => store.damageBlock('j1', 'nope', (b) => b));
  });

  it('hands out copies: changing a returned block changes nothing stored', async () => {
    const store = new MemorySnapshotStore();
    const address = createHash('sha256').update('y').digest('hex');
    const bytes = Buffer.from('abc');
    await store.putBlock('j1', address, bytes);
    bytes[0] = 0;
    (await store.getBlock('j1', address))[1] = 0;
    assert.equal(Buffer.from(await store.getBlock('j1', address)).toString(), 'abc');
  });
});
