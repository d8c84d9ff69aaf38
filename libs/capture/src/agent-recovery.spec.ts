import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OpTime } from '@tidemark/domain';
import { recoverJobs, RESYNC_REASON_TRANSFER_INTERRUPTED } from './agent-recovery';
import type { JobSpec } from './agent-supervisor';
import type { AgentJob, JobStateClient, ResumeInfo } from './ports';
import { MemoryPublisher } from './testing/memory-publisher';

/** job-state as an in-memory table. */
class MemoryJobState implements JobStateClient {
  readonly resyncs: { jobId: string; reason: string }[] = [];
  constructor(
    private readonly jobs: AgentJob[],
    private readonly resume: Map<string, ResumeInfo>,
  ) {}
  async listAgentJobs(): Promise<AgentJob[]> {
    return this.jobs;
  }
  async resumeInfo(jobId: string): Promise<ResumeInfo> {
    const info = this.resume.get(jobId);
    if (info === undefined) throw new Error(`404 ${jobId}`);
    return info;
  }
  async requestResync(jobId: string, reason: string): Promise<void> {
    this.resyncs.push({ jobId, reason });
  }
  async reportCapture(): Promise<void> {}
}

const job = (id: string, phase: AgentJob['phase']): AgentJob => ({
  id,
  state: phase === 'complete' ? 'active' : 'initial-sync',
  phase,
  syncId: `${id}-s2`,
  syncNo: 2,
  sourceUri: 'mongodb://src:27017',
  filters: { include: ['shop'], exclude: [] },
  readLimit: id === 'active' ? 3 : undefined,
});

describe('recoverJobs', () => {
  it('requests a resync for interrupted transfers and resumes the others from their stored position', async () => {
    const t = (i: number): OpTime => ({ t: 1_700_000_000, i });
    const jobState = new MemoryJobState(
      [
        job('starting', 'starting'),
        job('transfer', 'transferring'),
        job('applying', 'applying-oplogs'),
        job('active', 'complete'),
        job('fresh', 'building'),
      ],
      new Map([
        ['applying', { syncId: 'applying-s2', syncNo: 2, startTs: t(1), resumeTs: t(9) }],
        ['active', { syncId: 'active-s2', syncNo: 2, startTs: t(1), resumeTs: undefined }],
        ['fresh', { syncId: 'fresh-s2', syncNo: 2, startTs: undefined, resumeTs: undefined }],
      ]),
    );
    const resumed: { job: JobSpec; from: OpTime }[] = [];
    const publisher = new MemoryPublisher();
    const { snapshot, actions } = await recoverJobs({
      jobState,
      publisher,
      supervisor: {
        resumeTail: async (j: JobSpec, from: OpTime) => void resumed.push({ job: j, from }) as never,
      },
      clock: { now: () => 42 },
    });
    assert.deepEqual(jobState.resyncs, [
      { jobId: 'starting', reason: RESYNC_REASON_TRANSFER_INTERRUPTED },
      { jobId: 'transfer', reason: 'agent restarted during transfer' },
    ]);
    assert.deepEqual(
      resumed.map((r) => [r.job.jobId, r.job.syncId, r.from]),
      [
        ['applying', 'applying-s2', t(9)],
        ['active', 'active-s2', t(1)],
      ],
    );
    assert.deepEqual(resumed[0]!.job.filters, { include: ['shop'], exclude: [] });
    assert.deepEqual(
      resumed.map((r) => r.job.readLimit),
      [undefined, 3],
      'each tail resumes at its job’s read limit',
    );
    assert.equal(publisher.alerts[0]!.code, 'RESUME_POSITION_UNKNOWN');
    assert.deepEqual(
      actions.map((a) => a.action),
      ['resync-requested', 'resync-requested', 'tail-resumed', 'tail-resumed', 'no-position'],
    );
    assert.equal(snapshot.takenAt, 42);
    assert.equal(snapshot.jobs.get('applying')?.phase, 'applying-oplogs');
  });
});
