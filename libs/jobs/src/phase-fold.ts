/**
 * Folding a `PhaseChanged` report into its job. Pure and idempotent: folding the same report twice gives the
 * same job, so Kafka redelivery is harmless.
 *
 * - Only reports of the job's CURRENT sync count; reports of an earlier (or unknown) sync are stale.
 * - The phase only moves forward (the domain's `isPhaseAdvance`, as `assertPhaseAdvance` checks it); a report of
 *   an earlier phase still updates that phase's progress entry, never the phase.
 * - Progress is kept per (phase, stage), the latest report (by its `at`) winning: reports are cumulative.
 * - Details are merged (later keys replace earlier ones); `sourceTs` keeps the newest position seen.
 * - `complete` while `initial-sync`: `initial-sync-completed`, the job becomes `active`, and the retained
 *   backups of every earlier sync are marked for deletion (each sync builds a new head; docs/pipeline.md).
 */
import { applyJobAction, compareOpTime, isPhaseAdvance, type OpTime } from '@tidemark/domain';
import type { JobRecord, PhaseProgressEntry } from './job-record';
import type { PhaseReport } from '@tidemark/domain';

export type FoldResult =
  { readonly outcome: 'applied'; readonly job: JobRecord } | { readonly outcome: 'unchanged' | 'stale-sync' };

export function foldPhaseReport(job: JobRecord, report: PhaseReport): FoldResult {
  if (job.syncId === undefined || report.syncId !== job.syncId) return { outcome: 'stale-sync' };
  let changed = false;

  let phase = job.phase;
  if (isPhaseAdvance(job.phase, report.phase) && report.phase !== job.phase) {
    phase = report.phase;
    changed = true;
  }

  const progress = foldProgress(job.progress, report);
  if (progress !== job.progress) changed = true;

  const details = { ...job.details };
  for (const [key, value] of Object.entries(report.details)) {
    if (details[key] !== value) {
      details[key] = value;
      changed = true;
    }
  }

  const sourceTs = newest(job.sourceTs, report.sourceTs);
  if (sourceTs !== job.sourceTs) changed = true;

  let next: JobRecord = { ...job, phase, progress, details, sourceTs };
  if (phase === 'complete' && job.state === 'initial-sync') {
    next = {
      ...next,
      ...applyJobAction(next, 'initial-sync-completed', {
        newSyncId: () => {
          throw new Error('completing a sync begins none');
        },
      }),
      pendingDeletionThrough: Math.max(job.pendingDeletionThrough, job.syncNo - 1),
    };
    changed = true;
  }
  return changed ? { outcome: 'applied', job: next } : { outcome: 'unchanged' };
}

function foldProgress(
  entries: readonly PhaseProgressEntry[],
  report: PhaseReport,
): readonly PhaseProgressEntry[] {
  const at = entries.findIndex((e) => e.phase === report.phase && e.stage === report.stage);
  const stored = at < 0 ? undefined : entries[at];
  if (stored !== undefined && stored.reportedAt.getTime() > report.at.getTime()) return entries;
  const entry: PhaseProgressEntry = {
    phase: report.phase,
    stage: report.stage,
    docsCopied: report.progress.docsCopied,
    docsTotal: report.progress.docsTotal,
    bytesCopied: report.progress.bytesCopied,
    bytesTotal: report.progress.bytesTotal,
    namespaces: report.progress.namespaces.map((n) => ({ ...n })),
    reportedAt: report.at,
  };
  if (stored !== undefined && sameEntry(stored, entry)) return entries;
  return at < 0 ? [...entries, entry] : entries.map((e, n) => (n === at ? entry : e));
}

function sameEntry(a: PhaseProgressEntry, b: PhaseProgressEntry): boolean {
  const counters = (e: PhaseProgressEntry) => [e.docsCopied, e.docsTotal, e.bytesCopied, e.bytesTotal];
  const same = (x: readonly unknown[], y: readonly unknown[]) => x.every((v, n) => v === y[n]);
  return (
    a.reportedAt.getTime() === b.reportedAt.getTime() &&
    same(counters(a), counters(b)) &&
    a.namespaces.length === b.namespaces.length &&
    a.namespaces.every((n, i) => {
      const m = b.namespaces[i];
      return (
        m !== undefined &&
        n.namespace === m.namespace &&
        same(
          [n.docsCopied, n.docsTotal, n.bytesCopied, n.bytesTotal],
          [m.docsCopied, m.docsTotal, m.bytesCopied, m.bytesTotal],
        )
      );
    })
  );
}

function newest(stored: OpTime | undefined, reported: OpTime | undefined): OpTime | undefined {
  if (reported === undefined) return stored;
  if (stored === undefined || compareOpTime(reported, stored) > 0) return reported;
  return stored;
}
