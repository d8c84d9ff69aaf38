/**
 * Between the Avro records of `@tidemark/bus` and the messages of `@tidemark/jobs`: phases (`phaseFromAvro`),
 * oplog positions (`opTimeFromAvroLong`); alerts are mapped by @tidemark/bus `alertOfRecord`. Pure.
 */
import {
  opTimeFromAvroLong,
  opTimeToAvroLong,
  phaseFromAvro,
  phaseToAvro,
  type JobCommand,
  type PhaseChanged,
} from '@tidemark/bus';
import type { JobCommandMessage, PhaseReport } from '@tidemark/jobs';

/** A decoded `PhaseChanged` in domain terms. Throws `SchemaMismatchError` for a phase the domain does not know. */
export function phaseReportOf(event: PhaseChanged): PhaseReport {
  return {
    jobId: event.jobId,
    syncId: event.syncId,
    phase: phaseFromAvro(event.phase),
    stage: event.stage,
    progress: {
      docsCopied: event.progress.docsCopied,
      docsTotal: event.progress.docsTotal,
      bytesCopied: event.progress.bytesCopied,
      bytesTotal: event.progress.bytesTotal,
      namespaces: event.progress.namespaces.map((n) => ({
        namespace: n.namespace,
        docsCopied: n.docsCopied,
        docsTotal: n.docsTotal,
        bytesCopied: n.bytesCopied,
        bytesTotal: n.bytesTotal,
      })),
    },
    sourceTs: event.sourceTs === null ? undefined : opTimeFromAvroLong(event.sourceTs),
    details: { ...event.details },
    at: event.at,
  };
}

/** job-state's own phase report as a `PhaseChanged` record. */
export function phaseChangedOf(report: PhaseReport): PhaseChanged {
  return {
    jobId: report.jobId,
    syncId: report.syncId,
    phase: phaseToAvro(report.phase),
    stage: report.stage,
    progress: {
      docsCopied: report.progress.docsCopied,
      docsTotal: report.progress.docsTotal,
      bytesCopied: report.progress.bytesCopied,
      bytesTotal: report.progress.bytesTotal,
      namespaces: report.progress.namespaces.map((n) => ({ ...n })),
    },
    appliedTs: null,
    sourceTs: report.sourceTs === undefined ? null : opTimeToAvroLong(report.sourceTs),
    at: report.at,
    details: { ...report.details },
  };
}

export function jobCommandOf(command: JobCommandMessage): JobCommand {
  return {
    commandId: command.commandId,
    jobId: command.jobId,
    action: command.action,
    issuedAt: command.issuedAt,
    params: { ...command.params },
  };
}
