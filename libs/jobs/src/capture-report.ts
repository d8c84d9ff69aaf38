/**
 * The agent's capture report (`POST /api/v1/agent/capture`, service token): where each running job's capture is.
 * job-state keeps the newest source position of the job's current sync (`sourceTs`), so the status's lag is
 * measured against the source itself, and "oplog is behind" (`OPLOG_BEHIND`) can see a source that writes while no
 * oplog slice is stored, also after the initial sync, when no stage reports the source's position in a phase.
 */
import { compareOpTime, parseOpTime, type OpTime } from '@tidemark/domain';
import { schemaCheck } from '@tidemark/util';
import { AGENT_CAPTURE_REQUEST_SCHEMA } from './api-schemas';
import { JobValidationError } from './job-errors';
import type { JobRecord } from './job-record';
import type { FoldResult } from './phase-fold';

export interface CaptureReportEntry {
  readonly jobId: string;
  readonly syncId: string;
  readonly sourceTs: OpTime;
  readonly shippedTs: OpTime;
}

const checkSchema = schemaCheck(AGENT_CAPTURE_REQUEST_SCHEMA);

/** The body `{ positions: [{ jobId, syncId, sourceTs: "t:i", shippedTs: "t:i" }] }`. Throws `JobValidationError`. */
export function parseCaptureReport(body: unknown): CaptureReportEntry[] {
  const problems = checkSchema(body);
  if (problems.length > 0) throw new JobValidationError(problems);
  const positions = (body as { positions: Record<string, string>[] }).positions;
  return positions.map((p, k) => {
    const ts = (name: 'sourceTs' | 'shippedTs'): OpTime => {
      try {
        return parseOpTime(p[name]!);
      } catch {
        throw new JobValidationError([`positions[${k}].${name} is not a position t:i`]);
      }
    };
    return { jobId: p['jobId']!, syncId: p['syncId']!, sourceTs: ts('sourceTs'), shippedTs: ts('shippedTs') };
  });
}

/**
 * The job with the source position of `entry` kept: only for the job's current sync, only while the agent serves
 * it (`initial-sync`, `active`), and only forward (`sourceTs` keeps the newest position seen, as phases do).
 */
export function foldCapturePosition(job: JobRecord, entry: CaptureReportEntry): FoldResult {
  if (job.syncId === undefined || entry.syncId !== job.syncId) return { outcome: 'stale-sync' };
  if (job.state !== 'initial-sync' && job.state !== 'active') return { outcome: 'unchanged' };
  if (job.sourceTs !== undefined && compareOpTime(entry.sourceTs, job.sourceTs) <= 0)
    return { outcome: 'unchanged' };
  return { outcome: 'applied', job: { ...job, sourceTs: entry.sourceTs } };
}
