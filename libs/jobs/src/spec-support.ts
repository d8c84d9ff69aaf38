/** Helpers for this library's specs (not exported from the index). */
import type { PhaseReport } from '@tidemark/domain';

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
