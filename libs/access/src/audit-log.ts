/**
 * Where audit events go: the {@link AuditStore} first (durable, before the API answers), then the bus, through an
 * outbox. An event is stored owed; publishing it (oldest owed first) marks it published. An event that could not
 * be published (Kafka down, or job-state died in between) stays owed, and the next event or job-state's periodic
 * {@link AuditLog.flushOwed} publishes it, so none is lost; one may be published twice (published, then the mark
 * failed): consumers keep one per `eventId`. This is the restore outbox's pattern (`RestoreService`), one record
 * per event. If the store itself cannot be written, the event is published directly and handed to `unstored`
 * (job-state logs it whole: an event holds no secret), so it is never dropped silently.
 */
import { TidemarkError, type AuditEvent, type AuditEventPublisher } from '@tidemark/domain';

export const MAX_AUDIT_PAGE = 1_000;
const FLUSH_PAGE = 100;

export interface AuditListQuery {
  /** One project's events; all of them when absent. */
  readonly project?: string;
  /** Only events strictly older than this. */
  readonly before?: Date;
  readonly limit: number;
}

/**
 * The audit collection. Every write is durable when it resolves. `insert` stores the event owed; `owed` lists owed
 * events oldest first; `list` is newest first (by `at`, then `eventId`).
 */
export interface AuditStore {
  insert(event: AuditEvent): Promise<void>;
  markPublished(eventIds: readonly string[]): Promise<void>;
  owed(limit: number): Promise<AuditEvent[]>;
  list(query: AuditListQuery): Promise<AuditEvent[]>;
}

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly publisher: AuditEventPublisher;
  /** An event the store could not take (it is published directly too). */
  readonly unstored: (event: AuditEvent, err: unknown) => void;
  /** A background publish failed; the events stay owed. */
  readonly warn: (line: string) => void;
}

export class AuditLog {
  private draining: Promise<number> | undefined;
  private again = false;

  constructor(private readonly options: AuditLogOptions) {}

  /** Stores `event` (owed) and starts publishing what is owed; resolves once the event is stored. */
  async record(event: AuditEvent): Promise<void> {
    try {
      await this.options.store.insert(event);
    } catch (err) {
      this.options.unstored(event, err);
      this.options.publisher.publish(event).catch((e: unknown) => {
        this.options.warn(`audit event ${event.eventId} (unstored) could not be published: ${messageOf(e)}`);
      });
      return;
    }
    this.flushOwed().catch((err: unknown) => this.options.warn(messageOf(err)));
  }

  /**
   * Publishes every owed event, oldest first, marking each page published; returns how many went out. One drain
   * runs at a time (a call meanwhile joins it and makes it look again). Throws, retriable, when the bus refuses:
   * what was not published stays owed.
   */
  flushOwed(): Promise<number> {
    if (this.draining !== undefined) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      let total = 0;
      do {
        this.again = false;
        total += await this.drain();
      } while (this.again);
      return total;
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Resolves once no drain is running (shutdown, specs). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining.catch(() => undefined);
  }

  /** Newest first; `limit` at most {@link MAX_AUDIT_PAGE}. */
  list(query: AuditListQuery): Promise<AuditEvent[]> {
    return this.options.store.list({ ...query, limit: Math.min(query.limit, MAX_AUDIT_PAGE) });
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const owed = await this.options.store.owed(FLUSH_PAGE);
      if (owed.length === 0) return total;
      const published: string[] = [];
      try {
        for (const event of owed) {
          await this.options.publisher.publish(event);
          published.push(event.eventId);
        }
      } catch (err) {
        if (published.length > 0) await this.options.store.markPublished(published);
        throw new TidemarkError(
          `${owed.length - published.length} audit event(s) are stored but not yet published on the bus ` +
            `(${messageOf(err)}); they stay owed and go out once the bus answers`,
          { retriable: true, cause: err },
        );
      }
      await this.options.store.markPublished(published);
      total += published.length;
      if (owed.length < FLUSH_PAGE) return total;
    }
  }
}

/** The audit store in memory (specs; a single process). */
export class MemoryAuditStore implements AuditStore {
  private readonly events = new Map<string, { event: AuditEvent; owed: boolean }>();

  insert(event: AuditEvent): Promise<void> {
    this.events.set(event.eventId, { event, owed: true });
    return Promise.resolve();
  }

  markPublished(eventIds: readonly string[]): Promise<void> {
    for (const id of eventIds) {
      const e = this.events.get(id);
      if (e !== undefined) e.owed = false;
    }
    return Promise.resolve();
  }

  owed(limit: number): Promise<AuditEvent[]> {
    const owed = [...this.events.values()].filter((e) => e.owed).map((e) => e.event);
    return Promise.resolve(owed.sort((a, b) => -compareAuditNewestFirst(a, b)).slice(0, limit));
  }

  list(query: AuditListQuery): Promise<AuditEvent[]> {
    const found = [...this.events.values()]
      .map((e) => e.event)
      .filter((e) => query.project === undefined || e.project === query.project)
      .filter((e) => query.before === undefined || e.at.getTime() < query.before.getTime());
    return Promise.resolve(found.sort(compareAuditNewestFirst).slice(0, query.limit));
  }
}

/** Newest first: by `at`, then `eventId` descending. */
export function compareAuditNewestFirst(a: AuditEvent, b: AuditEvent): number {
  const byTime = b.at.getTime() - a.at.getTime();
  if (byTime !== 0) return byTime;
  return a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
