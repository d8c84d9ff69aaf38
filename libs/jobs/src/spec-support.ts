/** Helpers for this library's specs (not exported from the index). */
import type { PhaseReport } from '@tidemark/domain';
import { JobService, type JobServiceOptions } from './job-service';
import { MemoryBackupData } from './memory-backup-data';
import { MemoryCommandPublisher } from './memory-command-publisher';
import { MemoryJobRepository } from './memory-job-repository';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';

/**
 * A `JobService` over fresh memory adapters and the backup URI `mongodb://b`; `over` replaces any of them (pass the
 * adapter a spec wants to look into, keep your own reference to it).
 */
export function memoryJobService(over: Partial<JobServiceOptions> = {}): JobService {
  return new JobService({
    snapshots: new MemorySnapshotCatalog(),
    jobs: new MemoryJobRepository(),
    publisher: new MemoryCommandPublisher(),
    backupData: new MemoryBackupData(),
    backupUri: 'mongodb://b',
    ...over,
  });
}

/** A phase report of the head builder for `jobId`'s sync `syncId`, at `at` (a `Date`, or milliseconds). */
export function phaseReport(
  jobId: string,
  syncId: string,
  phase: PhaseReport['phase'],
  at: Date | number = 1,
): PhaseReport {
  return {
    jobId,
    syncId,
    phase,
    stage: 'head-builder',
    progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
    appliedTs: undefined,
    sourceTs: undefined,
    details: {},
    at: new Date(at),
  };
}
