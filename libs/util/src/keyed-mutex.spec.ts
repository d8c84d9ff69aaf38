import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs the sections of one key one at a time, in order, and forgets idle keys', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let inside = 0;
    const section = (name: string) => async () => {
      inside++;
      assert.equal(inside, 1, `${name} overlapped another section of the key`);
      log.push(`${name}>`);
      await tick();
      await tick();
      log.push(`<${name}`);
      inside--;
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c'].map((n) => mutex.run('job', section(n))));
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['a>', '<a', 'b>', '<b', 'c>', '<c']);
    assert.equal(mutex.busyKeys, 0);
  });

  it('lets different keys run at the same time', async () => {
    const mutex = new KeyedMutex();
    let concurrent = 0;
    let most = 0;
    await Promise.all(
      ['x', 'y'].map((key) =>
        mutex.run(key, async () => {
          concurrent++;
          most = Math.max(most, concurrent);
          await tick();
          concurrent--;
        }),
      ),
    );
    assert.equal(most, 2);
  });

  it('releases the key when a section throws', async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(
      mutex.run('k', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await mutex.run('k', async () => 'next'), 'next');
    assert.equal(mutex.busyKeys, 0);
  });
});
