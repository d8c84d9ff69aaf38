/**
 * job-state's alerts (docs/api.md, "Alerts"): one entry per opening of (job, code, subject). The n-th opening of a
 * key is generation n; a store holds each (key, generation) once, so two job-state replicas that both see a
 * condition begin cannot both open it (the second insert is refused). Closing is a compare-and-set on the state.
 * Each entry carries its outbox: the events (`open`, `closed`) it owes `tidemark.alerts`, written with the change
 * and removed once published.
 */
import type { Alert, AlertSeverity } from '@tidemark/domain';

export const ALERT_ENTRY_STATES = ['open', 'closed'] as const;
export type AlertEntryState = (typeof ALERT_ENTRY_STATES)[number];

export interface AlertEntry {
  readonly alertId: string;
  /** null: an alert about no job (a stage's consumer group). */
  readonly jobId: string | null;
  /** The job's project; null for an alert about no job (listed in every project). */
  readonly project: string | null;
  readonly code: string;
  readonly subject: string;
  /** The n-th opening of (job, code, subject), from 1. */
  readonly generation: number;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly context: Readonly<Record<string, string>>;
  readonly state: AlertEntryState;
  readonly openedAt: Date;
  readonly closedAt: Date | undefined;
  readonly closeReason: string | undefined;
  /** Events owed to the bus, oldest first. */
  readonly unpublished: readonly AlertEntryState[];
}

export interface AlertListQuery {
  /** Only these projects' alerts, and alerts about no job. */
  readonly project?: string;
  readonly jobId?: string;
  /** `null`: alerts about no job only. */
  readonly noJob?: boolean;
  readonly state?: AlertEntryState;
  /** At most this many, newest opened first. */
  readonly limit: number;
}

/**
 * Where alerts are stored. Every write is durable when it resolves; "not found" is `undefined`.
 */
export interface AlertStore {
  /** Stores a new open entry; false (storing nothing) when its (job, code, subject, generation) exists. */
  insertOpen(entry: AlertEntry): Promise<boolean>;
  /** The newest generation of (job, code, subject). */
  latest(jobId: string | null, code: string, subject: string): Promise<AlertEntry | undefined>;
  get(alertId: string): Promise<AlertEntry | undefined>;
  /**
   * Closes the entry when it is open (compare-and-set on the state), owing a `closed` event; resolves the entry as
   * closed, or undefined when it was not open (another replica closed it).
   */
  close(alertId: string, closedAt: Date, reason: string): Promise<AlertEntry | undefined>;
  /** Removes `published` from the entry's outbox (what is owed meanwhile stays). */
  markPublished(alertId: string, published: readonly AlertEntryState[]): Promise<void>;
  /** Newest opened first. */
  list(query: AlertListQuery): Promise<AlertEntry[]>;
  /** Entries owing events, at most `limit`. */
  listUnpublished(limit: number): Promise<AlertEntry[]>;
  /** Deletes closed entries closed before `before` that owe nothing; resolves how many. */
  deleteClosedBefore(before: Date): Promise<number>;
}

/** The alert (`tidemark.alerts` event) of an entry in a state. */
export function alertEvent(entry: AlertEntry, state: AlertEntryState): Alert {
  return {
    alertId: entry.alertId,
    jobId: entry.jobId,
    severity: entry.severity,
    code: entry.code,
    message: entry.message,
    context: { ...entry.context, ...(entry.project === null ? {} : { project: entry.project }) },
    at: entry.openedAt,
    lifecycle:
      state === 'open'
        ? { state, subject: entry.subject }
        : {
            state,
            subject: entry.subject,
            closedAt: entry.closedAt ?? entry.openedAt,
            ...(entry.closeReason === undefined ? {} : { closeReason: entry.closeReason }),
          },
  };
}

/** `entry` without the events of `published` (each removed once, oldest first). */
export function withoutPublished(
  owed: readonly AlertEntryState[],
  published: readonly AlertEntryState[],
): AlertEntryState[] {
  const left = [...owed];
  for (const p of published) {
    const i = left.indexOf(p);
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}

/** The API's shape of an alert (docs/api.md, "Alerts"). */
export interface AlertEntryView {
  alertId: string;
  jobId: string | null;
  project: string | null;
  code: string;
  subject: string;
  severity: AlertSeverity;
  state: AlertEntryState;
  message: string;
  context: Record<string, string>;
  openedAt: string;
  closedAt: string | null;
  closeReason: string | null;
}

export function alertEntryView(e: AlertEntry): AlertEntryView {
  return {
    alertId: e.alertId,
    jobId: e.jobId,
    project: e.project,
    code: e.code,
    subject: e.subject,
    severity: e.severity,
    state: e.state,
    message: e.message,
    context: { ...e.context },
    openedAt: e.openedAt.toISOString(),
    closedAt: e.closedAt?.toISOString() ?? null,
    closeReason: e.closeReason ?? null,
  };
}

/** Whether `e` matches `query` (not its limit). */
export function matchesAlertQuery(e: AlertEntry, query: AlertListQuery): boolean {
  return (
    (query.project === undefined || e.project === query.project || e.project === null) &&
    (query.jobId === undefined || e.jobId === query.jobId) &&
    (query.noJob !== true || e.jobId === null) &&
    (query.state === undefined || e.state === query.state)
  );
}

/** Newest opened first, then by id (a stable order). */
export function compareAlertsNewestFirst(a: AlertEntry, b: AlertEntry): number {
  const t = b.openedAt.getTime() - a.openedAt.getTime();
  return t !== 0 ? t : a.alertId < b.alertId ? 1 : a.alertId > b.alertId ? -1 : 0;
}

/** A real in-memory {@link AlertStore} for unit specs. */
export class MemoryAlertStore implements AlertStore {
  private readonly entries = new Map<string, AlertEntry>();

  private static slot(e: Pick<AlertEntry, 'jobId' | 'code' | 'subject' | 'generation'>): string {
    return `${e.jobId ?? '-'}\u0000${e.code}\u0000${e.subject}\u0000${e.generation}`;
  }

  async insertOpen(entry: AlertEntry): Promise<boolean> {
    const slot = MemoryAlertStore.slot(entry);
    if ([...this.entries.values()].some((e) => MemoryAlertStore.slot(e) === slot)) return false;
    this.entries.set(entry.alertId, entry);
    return true;
  }

  async latest(jobId: string | null, code: string, subject: string): Promise<AlertEntry | undefined> {
    let best: AlertEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.jobId !== jobId || e.code !== code || e.subject !== subject) continue;
      if (best === undefined || e.generation > best.generation) best = e;
    }
    return best;
  }

  async get(alertId: string): Promise<AlertEntry | undefined> {
    return this.entries.get(alertId);
  }

  async close(alertId: string, closedAt: Date, reason: string): Promise<AlertEntry | undefined> {
    const e = this.entries.get(alertId);
    if (e === undefined || e.state !== 'open') return undefined;
    const closed: AlertEntry = {
      ...e,
      state: 'closed',
      closedAt,
      closeReason: reason,
      unpublished: [...e.unpublished, 'closed'],
    };
    this.entries.set(alertId, closed);
    return closed;
  }

  async markPublished(alertId: string, published: readonly AlertEntryState[]): Promise<void> {
    const e = this.entries.get(alertId);
    if (e !== undefined)
      this.entries.set(alertId, { ...e, unpublished: withoutPublished(e.unpublished, published) });
  }

  async list(query: AlertListQuery): Promise<AlertEntry[]> {
    return [...this.entries.values()]
      .filter((e) => matchesAlertQuery(e, query))
      .sort(compareAlertsNewestFirst)
      .slice(0, query.limit);
  }

  async listUnpublished(limit: number): Promise<AlertEntry[]> {
    return [...this.entries.values()].filter((e) => e.unpublished.length > 0).slice(0, limit);
  }

  async deleteClosedBefore(before: Date): Promise<number> {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (
        e.state === 'closed' &&
        e.unpublished.length === 0 &&
        (e.closedAt?.getTime() ?? 0) < before.getTime()
      ) {
        this.entries.delete(id);
        n++;
      }
    }
    return n;
  }
}
