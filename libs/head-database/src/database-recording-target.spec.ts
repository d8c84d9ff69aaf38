import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplyTarget } from '@tidemark/domain';
import { RecordedDatabases, recordingDatabases } from './database-recording-target';
import { MemoryHeadRegistry } from './memory-head-registry';

/** A target that only logs its calls, into the same log as the registry's records. */
function loggingTarget(log: string[]): ApplyTarget {
  const call =
    (name: string) =>
    async (...args: unknown[]): Promise<never> => {
      log.push(`${name} ${String(args[0])}${name === 'renameCollection' ? ` ${String(args[1])}` : ''}`);
      return { matched: true, deleted: true } as never;
    };
  return {
    capabilities: { readYourWrites: true },
    insertOrReplace: call('insertOrReplace'),
    update: call('update'),
    delete: call('delete'),
    findById: call('findById'),
    createCollection: call('createCollection'),
    dropCollection: call('dropCollection'),
    renameCollection: call('renameCollection'),
    dropDatabase: call('dropDatabase'),
    createIndexes: call('createIndexes'),
    dropIndexes: call('dropIndexes'),
    collMod: call('collMod'),
    convertToCapped: call('convertToCapped'),
  };
}

describe('recordingDatabases', () => {
  const job = { jobId: 'j1', syncId: 'j1-s1' };

  it('records each database before the first write into it, once, and nothing for a read', async () => {
    const log: string[] = [];
    const registry = new MemoryHeadRegistry();
    await registry.recordScanCatalog('j1', 'j1-s1', 1, {
      startTs: { t: 1, i: 1 },
      endTs: { t: 2, i: 1 },
      namespaces: [],
    });
    const record = registry.recordDatabase.bind(registry);
    registry.recordDatabase = async (jobId, syncId, db) => {
      log.push(`record ${db}`);
      return record(jobId, syncId, db);
    };
    const target = recordingDatabases(loggingTarget(log), registry, job);
    await target.findById?.('th_a.c', { _id: 1 });
    await target.insertOrReplace('th_a.c', { _id: 1 });
    await target.update('th_a.d', { _id: 1 }, { kind: 'replacement', replacement: { _id: 1 } } as never);
    await target.renameCollection('th_a.c', 'th_b.c', false);
    await target.createIndexes('th_c.x', [{ key: { a: 1 }, name: 'a_1' }]);
    await target.dropDatabase('th_d');
    assert.deepEqual(log, [
      'findById th_a.c',
      'record th_a',
      'insertOrReplace th_a.c',
      'update th_a.d',
      'record th_b',
      'renameCollection th_a.c th_b.c',
      'record th_c',
      'createIndexes th_c.x',
      'record th_d',
      'dropDatabase th_d',
    ]);
    assert.deepEqual(await registry.recordedDatabases('j1', 'j1-s1'), ['th_a', 'th_b', 'th_c', 'th_d']);
  });

  it('does not write when the record fails, and records again on the next try', async () => {
    const log: string[] = [];
    const registry = new MemoryHeadRegistry();
    let fail = true;
    const record = registry.recordDatabase.bind(registry);
    registry.recordDatabase = async (jobId, syncId, db) => {
      if (fail) throw new Error('meta database unavailable');
      return record(jobId, syncId, db);
    };
    const target = recordingDatabases(loggingTarget(log), registry, job);
    await assert.rejects(target.insertOrReplace('th_a.c', { _id: 1 }), /meta database unavailable/);
    assert.deepEqual(log, [], 'nothing written into an unrecorded database');
    fail = false;
    await target.insertOrReplace('th_a.c', { _id: 1 });
    assert.deepEqual(log, ['insertOrReplace th_a.c']);
  });

  it('RecordedDatabases remembers, per sync, what this process recorded across turns', async () => {
    const registry = new MemoryHeadRegistry();
    let records = 0;
    const record = registry.recordDatabase.bind(registry);
    registry.recordDatabase = async (jobId, syncId, db) => {
      records++;
      return record(jobId, syncId, db);
    };
    const recorded = new RecordedDatabases(registry);
    const inner = loggingTarget([]);
    await recorded.target(inner, job).insertOrReplace('th_a.c', { _id: 1 });
    await recorded.target(inner, job).insertOrReplace('th_a.d', { _id: 1 });
    await recorded.target(inner, { jobId: 'j1', syncId: 'j1-s2' }).insertOrReplace('th_a.c', { _id: 1 });
    assert.equal(records, 2, 'once for j1-s1 over two turns, once for j1-s2');
  });
});
