/**
 * Phase durations from phase reports: how long each sync spent in each phase, measured on the reporting stages'
 * clocks (`PhaseReport.at`). A sync enters a phase with the first report of it; when a report of a later phase
 * arrives, the earlier phase ended then and its duration is handed out. Reports of a phase already left (another
 * stage still reporting it, a redelivery) change nothing, since phases only move forward within a sync. Bounded:
 * at most `maxSyncs` syncs are followed (the oldest forgotten first); a sync is forgotten once `complete`.
 */
import { LAST_PHASE, phaseIndex, type Phase, type PhaseReport } from '@tidemark/domain';

export interface PhaseEnded {
  readonly phase: Phase;
  readonly seconds: number;
}

interface InPhase {
  readonly phase: Phase;
  readonly since: number;
}

export class PhaseTimer {
  private readonly syncs = new Map<string, InPhase>();

  constructor(private readonly maxSyncs = 10_000) {}

  /** The phase the report ends, if it ends one. */
  report(report: Pick<PhaseReport, 'jobId' | 'syncId' | 'phase' | 'at'>): PhaseEnded | undefined {
    const key = `${report.jobId}\u0000${report.syncId}`;
    const at = report.at.getTime();
    const current = this.syncs.get(key);
    if (current !== undefined && phaseIndex(report.phase) <= phaseIndex(current.phase)) return undefined;
    this.syncs.delete(key);
    if (report.phase !== LAST_PHASE) {
      this.syncs.set(key, { phase: report.phase, since: at });
      if (this.syncs.size > this.maxSyncs) this.syncs.delete(this.syncs.keys().next().value!);
    }
    if (current === undefined) return undefined;
    return { phase: current.phase, seconds: Math.max(0, (at - current.since) / 1000) };
  }

  /** Syncs followed now. */
  get size(): number {
    return this.syncs.size;
  }
}
