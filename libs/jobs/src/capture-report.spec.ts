import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureReport } from './capture-report';
import { JobValidationError } from './job-errors';
import { MemoryJobRepository } from './memory-job-repository';
import { memoryJobService, phaseReport } from './spec-support';

const NOW = new Date('2026-03-01T10:00:00.000Z');

describe('the agent capture report', () => {
  it('parses positions and refuses a malformed body with every reason', () => {
    assert.deepEqual(
      parseCaptureReport({
        positions: [{ jobId: 'abc', syncId: 'abc-s1', sourceTs: '10:2', shippedTs: '9:0' }],
      }),
      [{ jobId: 'abc', syncId: 'abc-s1', sourceTs: { t: 10, i: 2 }, shippedTs: { t: 9, i: 0 } }],
    );
    assert.deepEqual(parseCaptureReport({ positions: [] }), []);
    for (const bad of [
      undefined,
      {},
      { positions: [{ jobId: 'abc', syncId: 'abc-s1', sourceTs: 'ten', shippedTs: '9:0' }] },
      { positions: [{ jobId: 'ABC$', syncId: 'x', sourceTs: '1:1', shippedTs: '1:1' }] },
      { positions: [], extra: 1 },
    ])
      assert.throws(() => parseCaptureReport(bad), JobValidationError, JSON.stringify(bad));
  });

  it('keeps the newest source position of the current sync of a served job, and only that', async () => {
    const jobs = new MemoryJobRepository();
    const service = memoryJobService({ jobs, clock: () => NOW });
    const { id } = await service.createJob({
      project: 'p',
      sourceUri: 'mongodb://s',
      include: [],
      exclude: [],
    });
    const at = (t: number, syncId = `${id}-s1`) => ({
      jobId: id,
      syncId,
      sourceTs: { t, i: 0 },
      shippedTs: { t: 1, i: 0 },
    });
    assert.equal(await service.recordCapture([at(5)]), 0, 'an inactive job has no sync to report on');
    await service.start(id);
    await service.foldPhase(phaseReport(id, `${id}-s1`, 'complete', NOW));
    assert.equal(await service.recordCapture([at(5), at(7), at(6)]), 2);
    assert.deepEqual((await jobs.get(id))?.sourceTs, { t: 7, i: 0 }, 'only forward');
    assert.equal(await service.recordCapture([at(9, `${id}-s0`)]), 0, 'another sync');
    assert.equal(await service.recordCapture([{ ...at(9), jobId: 'nosuchjb' }]), 0, 'an unknown job');
    await service.stop(id);
    assert.equal(await service.recordCapture([at(9)]), 0, 'a stopped job');
    assert.deepEqual((await jobs.get(id))?.sourceTs, { t: 7, i: 0 });
  });
});
