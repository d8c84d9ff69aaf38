import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newJobRecord } from './create-job-input';
import { JOB_ID_PATTERN, randomJobId, wellFormedJobIds } from './job-id';
import { MemoryJobRepository } from './memory-job-repository';
import type { JobRecord } from './job-record';

describe('job ids', () => {
  it('draws ids of the pattern', () => {
    for (let i = 0; i < 100; i++) assert.match(randomJobId(), JOB_ID_PATTERN);
  });

  it('wellFormedJobIds never asks the store for an id that cannot be one', async () => {
    const memory = new MemoryJobRepository();
    const asked: string[] = [];
    const spy = Object.assign(Object.create(memory) as MemoryJobRepository, {
      get: (id: string): Promise<JobRecord | undefined> => {
        asked.push(id);
        return memory.get(id);
      },
    });
    const repo = wellFormedJobIds(spy);
    const job = newJobRecord(
      { project: 'p', sourceUri: 'mongodb://h/', include: [], exclude: [] },
      'abcd1234',
      new Date(),
    );
    assert.equal(await repo.insert(job), true);
    assert.equal((await repo.get('abcd1234'))?.id, 'abcd1234');
    for (const bad of ['\u0000', 'abcd123\u0000', '$where', 'ABCD1234', 'a-b', 'j'.repeat(65), ''])
      assert.equal(await repo.get(bad), undefined, JSON.stringify(bad.slice(0, 20)));
    assert.equal(await repo.get('ro1a2b3c4d'), undefined, 'a well-formed id is looked up');
    assert.deepEqual(asked, ['abcd1234', 'ro1a2b3c4d']);
  });
});
