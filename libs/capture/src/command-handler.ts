/**
 * One command from `tidemark.commands`, start to finish: decode, gate, act, and say how the offset may be
 * committed. The agent app's consumer loop calls {@link CommandHandler.handle} per message and commits per the
 * returned {@link CommitDecision} (through `CommitFloor`).
 *
 * Each command ends one of three ways:
 * - done (or skipped by the gate): commit; FETCH_MISSING_DOCUMENTS batches before the last hold the commit until
 *   their fetch's catalog is published (see `MissingFetch`);
 * - a retriable failure (Kafka or the source unreachable): `handle` rejects; the loop retries the same message
 *   and commits nothing meanwhile;
 * - a failure no retry can fix (bad parameters, ...): `AGENT_COMMAND_FAILED` is raised and the command is
 *   committed, so one bad command does not stop every job behind it.
 */
import { randomUUID } from 'node:crypto';
import { ALERT_CODES, describeError } from '@tidemark/domain';
import { ALERT_PUBLISH, hasRetriableFlag, retry } from '@tidemark/util';
import { decodeAgentCommand, type AgentCommand, type JobCommandRecord } from './agent-command';
import type { AgentSupervisor } from './agent-supervisor';
import { failureAlert } from './alerts';
import { CommandGate, type StartupSnapshot } from './command-gate';
import { silentLogger, type AgentLogger, type SlicePublisher, type SourceReader } from './ports';

/** How the handled message's offset may be committed. */
export interface CommitDecision {
  /** Keep the partition's commit at this message until `release` of the same key. */
  readonly hold?: string;
  /** Release an earlier hold. */
  readonly release?: string;
}

export interface CommandHandlerDeps {
  readonly supervisor: AgentSupervisor;
  readonly sourceFor: (uri: string) => Promise<SourceReader>;
  readonly publisher: SlicePublisher;
  /** Source of jobs the agent runs nothing for (FETCH_MISSING_DOCUMENTS carries no URI). */
  readonly defaultSourceUri: string;
  readonly logger?: AgentLogger;
  readonly newId?: () => string;
}

export class CommandHandler {
  private readonly gate: CommandGate;
  private readonly logger: AgentLogger;
  /** Source URI of each job, from its sync commands and the start-up snapshot. */
  private readonly sources = new Map<string, string>();

  constructor(
    private readonly deps: CommandHandlerDeps,
    snapshot: StartupSnapshot & { readonly sourceUris?: ReadonlyMap<string, string> },
  ) {
    this.gate = new CommandGate(snapshot);
    this.logger = deps.logger ?? silentLogger;
    for (const [jobId, uri] of snapshot.sourceUris ?? []) this.sources.set(jobId, uri);
  }

  async handle(record: JobCommandRecord): Promise<CommitDecision> {
    let command: AgentCommand;
    try {
      command = decodeAgentCommand(record);
    } catch (err) {
      await this.fail(record, err);
      return {};
    }
    const decision = this.gate.decide(command);
    if (!decision.act) {
      this.logger.event({
        event: 'command-skipped',
        commandId: command.commandId,
        jobId: command.jobId,
        action: record.action,
        reason: decision.reason,
      });
      return {};
    }
    this.logger.event({
      event: 'command-received',
      commandId: command.commandId,
      jobId: command.jobId,
      action: record.action,
    });
    try {
      const result = await this.act(command);
      this.gate.remember(command.commandId);
      return result;
    } catch (err) {
      if (hasRetriableFlag(err)) throw err;
      await this.fail(record, err);
      this.gate.remember(command.commandId);
      return command.kind === 'fetch-missing' ? { release: fetchKey(command.jobId, command.syncId) } : {};
    }
  }

  private async act(command: AgentCommand): Promise<CommitDecision> {
    switch (command.kind) {
      case 'sync': {
        this.sources.set(command.jobId, command.sourceUri);
        const running = this.deps.supervisor.activity(command.jobId);
        if (running !== undefined && running.syncNo >= command.syncNo) {
          // A redelivered or late command for a sync that is already running (or superseded): starting it
          // again would transfer the same slice ids twice.
          this.logger.event({
            event: 'command-skipped',
            commandId: command.commandId,
            jobId: command.jobId,
            action: command.action,
            reason: `sync ${running.syncId} is already running`,
          });
          return {};
        }
        await this.deps.supervisor.startSync({
          jobId: command.jobId,
          syncId: command.syncId,
          syncNo: command.syncNo,
          filters: command.filters,
          sourceUri: command.sourceUri,
          readLimit: command.readLimit,
        });
        return {};
      }
      case 'stop':
        await this.deps.supervisor.stop(command.jobId);
        return {};
      case 'fetch-missing': {
        const uri =
          this.deps.supervisor.activity(command.jobId)?.sourceUri ??
          this.sources.get(command.jobId) ??
          this.deps.defaultSourceUri;
        const source = await this.deps.sourceFor(uri);
        const { catalogPublished } = await this.deps.supervisor.fetchMissing(command, source);
        const key = fetchKey(command.jobId, command.syncId);
        return catalogPublished ? { release: key } : { hold: key };
      }
      case 'other':
        return {};
    }
  }

  private async fail(record: JobCommandRecord, err: unknown): Promise<void> {
    this.logger.event({
      event: 'command-failed',
      commandId: record.commandId,
      jobId: record.jobId,
      action: record.action,
      error: describeError(err),
    });
    const alert = failureAlert(
      (this.deps.newId ?? randomUUID)(),
      ALERT_CODES.commandFailed,
      record.jobId,
      `command ${record.action} (${record.commandId}) failed`,
      err,
      { commandId: record.commandId, action: record.action },
    );
    await retry(() => this.deps.publisher.publishAlert(alert), {
      maxAttempts: 5,
      backoff: ALERT_PUBLISH,
      what: 'publish alert',
    });
  }
}

/** Hold key of a missing-documents fetch. */
export function fetchKey(jobId: string, syncId: string): string {
  return `fetch:${jobId}/${syncId}`;
}
