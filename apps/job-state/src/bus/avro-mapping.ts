/**
 * Between the Avro `JobCommand` of `@tidemark/bus` and the command messages of `@tidemark/jobs`. Phase reports and
 * alerts are mapped by @tidemark/bus (`phaseReportOf` / `phaseChangedOf`, `alertOfRecord`). Pure.
 */
import type { JobCommand } from '@tidemark/bus';
import type { JobCommandMessage } from '@tidemark/jobs';

export function jobCommandOf(command: JobCommandMessage): JobCommand {
  return {
    commandId: command.commandId,
    jobId: command.jobId,
    action: command.action,
    issuedAt: command.issuedAt,
    params: { ...command.params },
  };
}
