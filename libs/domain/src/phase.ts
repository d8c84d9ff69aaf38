/**
 * Initial-sync phases.
 *
 * A job in state `initial-sync` reports its progress as a phase. Phases only move forward within one sync
 * attempt (one sync id): a phase may be reported again (redelivery, periodic progress) or skipped, never undone.
 * A new attempt (restart, resync) has a new sync id and starts again at `starting`.
 */
import { TidemarkError, type CauseOption } from './tidemark-error';

/** The phases, in order. */
export const PHASES = [
  'starting',
  'transferring',
  'building',
  'applying-oplogs',
  'fetching-missing-documents',
  'creating-indexes',
  'complete',
] as const;

export type Phase = (typeof PHASES)[number];

/** The first phase of every sync attempt. */
export const FIRST_PHASE: Phase = 'starting';

/** The last phase: the head database is complete. */
export const LAST_PHASE: Phase = 'complete';

export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value);
}

/** The phase's position in {@link PHASES}, 0-based. */
export function phaseIndex(phase: Phase): number {
  const index = PHASES.indexOf(phase);
  if (index < 0) throw new TypeError(`not a phase: ${String(phase)}`);
  return index;
}

/** The phase after `phase`, or undefined after `complete`. */
export function nextPhase(phase: Phase): Phase | undefined {
  return PHASES[phaseIndex(phase) + 1];
}

/**
 * True when moving from `prev` to `next` keeps the order: same phase, or any later one. `prev` undefined means
 * the attempt has reported nothing yet, so any phase is accepted.
 */
export function isPhaseAdvance(prev: Phase | undefined, next: Phase): boolean {
  return prev === undefined || phaseIndex(next) >= phaseIndex(prev);
}

/**
 * Throws {@link PhaseRegressionError} (not retriable) when `next` comes before `prev`. Callers compare phases of the
 * same sync attempt only; a new sync id resets the phase.
 */
export function assertPhaseAdvance(
  prev: Phase | undefined,
  next: Phase,
  context: { jobId?: string; syncId?: string } = {},
): void {
  if (prev !== undefined && !isPhaseAdvance(prev, next)) {
    throw new PhaseRegressionError({ jobId: context.jobId, syncId: context.syncId, from: prev, to: next });
  }
}

/** An initial-sync phase report would move the phase backwards within one sync attempt. Not retriable. */
export class PhaseRegressionError extends TidemarkError {
  override readonly name: string = 'PhaseRegressionError';
  readonly jobId: string | undefined;
  readonly syncId: string | undefined;
  readonly from: Phase;
  readonly to: Phase;

  constructor(details: { jobId?: string; syncId?: string; from: Phase; to: Phase } & CauseOption) {
    const who = [
      details.jobId === undefined ? undefined : `job ${details.jobId}`,
      details.syncId === undefined ? undefined : `sync ${details.syncId}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(
      `${who === '' ? 'initial sync' : who}: phase cannot move backwards from "${details.from}" to "${details.to}"`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.syncId = details.syncId;
    this.from = details.from;
    this.to = details.to;
  }
}
