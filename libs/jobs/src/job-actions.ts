/**
 * The user's actions on a job (start, stop, restart, resync, terminate) as pure functions: the domain state
 * machine decides the new state (`applyJobAction`, which throws `IllegalTransitionError` for an illegal one), and
 * the job's outbox receives what the pipeline must be told, in order.
 *
 * - start / restart / resync: a new sync (`syncNo + 1`, `syncId = syncIdOf(jobId, syncNo)`), state
 *   `initial-sync`, phase `starting`; the outbox gets the START / RESTART / RESYNC command and a `PhaseChanged`
 *   STARTING report. What was folded about the previous sync (progress, details, alerts, blocked) is reset.
 * - resync while `initial-sync` (the agent restarted during the transfer, docs/pipeline.md): the domain table has
 *   no such row, so it is the two legal steps `stop` then `restart`, sent as one RESYNC command.
 * - stop: state `stopped`, a STOP command.
 * - terminate: state `inactive`, a TERMINATE command, and every retained backup of syncs `1..syncNo` is marked
 *   for deletion (done by the service after the command is sent).
 */
import {
  allowedActions,
  applyJobAction,
  FIRST_PHASE,
  phaseReport,
  syncIdOf,
  transition,
  type BackupJob,
  type JobAction,
  type JobState,
} from '@tidemark/domain';
import type { JobRecord } from './job-record';
import type { JobCommandAction, OutboxMessage } from './messages';

export const USER_ACTIONS = ['start', 'stop', 'restart', 'terminate', 'resync'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

export function isUserAction(value: unknown): value is UserAction {
  return typeof value === 'string' && (USER_ACTIONS as readonly string[]).includes(value);
}

/** What an action needs besides the job. */
export interface ActionContext {
  readonly now: Date;
  /** A new unique id for each outbox message. */
  messageId(): string;
  /** Why (resync): sent as the command's `reason` param and the STARTING report's `reason` detail. */
  readonly reason?: string;
}

const COMMAND_OF: Record<'start' | 'restart' | 'resync', JobCommandAction> = {
  start: 'START',
  restart: 'RESTART',
  resync: 'RESYNC',
};

/** The domain's `applyJobAction`, keeping the fields job-state adds. */
function step<T extends BackupJob>(job: T, action: JobAction, newSyncId: () => string): T {
  return { ...job, ...applyJobAction(job, action, { newSyncId }) };
}

/** The user actions legal in `state` (for the API and the CLI). */
export function userActionsAllowed(state: JobState): UserAction[] {
  const legal = allowedActions(state).filter(isUserAction);
  if (state === 'initial-sync' && !legal.includes('resync')) legal.push('resync');
  return legal;
}

/** The job after `action`. Throws `IllegalTransitionError` when the action is not allowed in the job's state. */
export function applyUserAction(job: JobRecord, action: UserAction, ctx: ActionContext): JobRecord {
  switch (action) {
    case 'start':
    case 'restart':
    case 'resync':
      return beginSync(job, action, ctx);
    case 'stop': {
      const next = step(job, 'stop', noSync(job));
      return { ...next, outbox: [...job.outbox, command(job, 'STOP', ctx, syncParam(job))] };
    }
    case 'terminate': {
      const next = step(job, 'terminate', noSync(job));
      return {
        ...next,
        progress: [],
        details: {},
        sourceTs: undefined,
        alerts: [],
        blocked: undefined,
        pendingDeletionThrough: Math.max(job.pendingDeletionThrough, job.syncNo),
        outbox: [...job.outbox, command(job, 'TERMINATE', ctx, syncParam(job))],
      };
    }
  }
}

function beginSync(job: JobRecord, action: 'start' | 'restart' | 'resync', ctx: ActionContext): JobRecord {
  const syncNo = job.syncNo + 1;
  const newSyncId = () => syncIdOf(job.id, syncNo);
  let next: JobRecord;
  if (action === 'resync' && job.state === 'initial-sync') {
    next = step(step(job, 'stop', noSync(job)), 'restart', newSyncId);
  } else {
    transition(job.state, action, job.id); // the domain's guard, with its reason
    next = step(job, action, newSyncId);
  }
  const syncId = newSyncId();
  const reason: Record<string, string> =
    action === 'resync' && ctx.reason !== undefined ? { reason: ctx.reason } : {};
  const params: Record<string, string> = {
    syncId,
    syncNo: String(syncNo),
    sourceUri: job.source.uri,
    include: JSON.stringify(job.namespaces.include),
    exclude: JSON.stringify(job.namespaces.exclude),
    // The agent paces the new sync from its first read; later changes reach it through GET /api/v1/agent/jobs.
    ...(job.readLimit === undefined ? {} : { readLimit: String(job.readLimit) }),
    ...reason,
  };
  const starting: OutboxMessage = {
    id: ctx.messageId(),
    kind: 'phase',
    report: phaseReport(
      'job-state',
      { jobId: job.id, syncId, phase: FIRST_PHASE, details: { action, ...reason } },
      ctx.now,
    ),
  };
  return {
    ...next,
    syncNo,
    progress: [],
    details: {},
    sourceTs: undefined,
    alerts: [],
    blocked: undefined,
    outbox: [...job.outbox, command(job, COMMAND_OF[action], ctx, params), starting],
  };
}

function command(
  job: JobRecord,
  action: JobCommandAction,
  ctx: ActionContext,
  params: Record<string, string>,
): OutboxMessage {
  const id = ctx.messageId();
  return {
    id,
    kind: 'command',
    command: { commandId: id, jobId: job.id, action, issuedAt: ctx.now, params },
  };
}

function syncParam(job: JobRecord): Record<string, string> {
  return job.syncId === undefined ? {} : { syncId: job.syncId };
}

/** For actions that never enter `initial-sync`: asking for a sync id is a bug. */
function noSync(job: JobRecord): () => string {
  return () => {
    throw new Error(`job ${job.id}: this action must not begin a sync`);
  };
}
