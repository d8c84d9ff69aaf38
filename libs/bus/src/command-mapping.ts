/**
 * Commands on the bus: the Avro `JobCommand` of the commands job-state sends (`JobCommandMessage` of
 * `@tidemark/jobs`) and of the FETCH_MISSING_DOCUMENTS commands the oplog-applier sends
 * (`FetchMissingDocumentsCommand` of `@tidemark/head-database`). Phase reports and alerts are mapped in
 * `phase-mapping.ts` and `alert-mapping.ts`. Pure.
 */
import type { FetchMissingDocumentsCommand } from '@tidemark/head-database';
import type { JobCommandMessage } from '@tidemark/jobs';
import type { JobCommand } from './types';

export function jobCommandOf(command: JobCommandMessage): JobCommand {
  return {
    commandId: command.commandId,
    jobId: command.jobId,
    action: command.action,
    issuedAt: command.issuedAt,
    params: { ...command.params },
  };
}

/** The `JobCommand{FETCH_MISSING_DOCUMENTS}` record of a fetch request, issued at `issuedAt`. */
export function fetchMissingDocumentsRecord(c: FetchMissingDocumentsCommand, issuedAt: Date): JobCommand {
  return {
    commandId: c.commandId,
    jobId: c.jobId,
    action: 'FETCH_MISSING_DOCUMENTS',
    issuedAt,
    params: {
      syncId: c.syncId,
      batch: String(c.batch),
      batches: String(c.batches),
      ns: c.ns,
      ids: c.ids,
    },
  };
}
