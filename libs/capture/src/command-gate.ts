/**
 * Which commands the agent carries out. At start-up the agent asks job-state which jobs it serves and decides
 * each one (resume its tail, or request a resync); commands issued before that snapshot and redelivered by Kafka
 * are therefore already accounted for, and acting on them again would restart finished transfers. Rules:
 *
 * | command | issued after the snapshot | issued before the snapshot |
 * | --- | --- | --- |
 * | already handled by this process (same `commandId`) | skip | skip |
 * | START / RESTART / RESYNC, STOP / TERMINATE | act | skip: the snapshot decided the job |
 * | FETCH_MISSING_DOCUMENTS | act | act only when the snapshot lists the job with the same sync in phase `applying-oplogs` or `fetching-missing-documents` (the fetch is unfinished) |
 * | other actions | skip: not the agent's | skip |
 *
 * `issuedAt` is job-state's clock and the snapshot time the agent's: the rule assumes clocks within a second.
 */
import type { Phase } from '@tidemark/domain';
import type { AgentCommand } from './agent-command';

/** What job-state said at start-up. */
export interface StartupSnapshot {
  /** Agent clock, ms since the epoch, when the job list was requested. */
  readonly takenAt: number;
  readonly jobs: ReadonlyMap<string, { readonly syncId: string; readonly phase: Phase | undefined }>;
}

export type GateDecision = { readonly act: true } | { readonly act: false; readonly reason: string };

/** Command ids remembered (oldest forgotten first): far more than can be redelivered at once. */
export const REMEMBERED_COMMANDS = 10_000;
/** Tolerated clock difference between job-state and the agent, ms. */
export const CLOCK_SKEW_MS = 1000;
const UNFINISHED_FETCH_PHASES: readonly (Phase | undefined)[] = [
  'applying-oplogs',
  'fetching-missing-documents',
];

export class CommandGate {
  private readonly handled = new Set<string>();

  constructor(private readonly snapshot: StartupSnapshot) {}

  decide(command: AgentCommand): GateDecision {
    if (command.kind === 'other') return { act: false, reason: `${command.action} is not for the agent` };
    if (this.handled.has(command.commandId)) return { act: false, reason: 'already handled' };
    if (command.issuedAt.getTime() > this.snapshot.takenAt - CLOCK_SKEW_MS) return { act: true };
    const job = this.snapshot.jobs.get(command.jobId);
    if (command.kind === 'fetch-missing') {
      return job !== undefined && job.syncId === command.syncId && UNFINISHED_FETCH_PHASES.includes(job.phase)
        ? { act: true }
        : { act: false, reason: 'issued before start-up for a fetch that is no longer open' };
    }
    return { act: false, reason: 'issued before start-up; the start-up recovery decided the job' };
  }

  /** Records a command as handled (after its effect is durable). */
  remember(commandId: string): void {
    this.handled.add(commandId);
    if (this.handled.size > REMEMBERED_COMMANDS) {
      this.handled.delete(this.handled.values().next().value as string);
    }
  }
}
