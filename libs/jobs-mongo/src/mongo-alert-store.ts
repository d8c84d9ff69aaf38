/**
 * `MongoAlertStore`: job-state's alerts (`AlertStore` of `@tidemark/jobs`) in `<TIDEMARK_META_DB>.alerts`, one
 * document per opening of (job, code, subject), written only by job-state (docs/format.md, "Stored records").
 *
 * - `_id` is the opening's slot, `["<jobId>|null", "<code>", "<subject>", <generation>]` as JSON: inserting an
 *   opening whose slot exists fails with a duplicate key, so two job-state replicas cannot both open the same
 *   generation (the unique index every MongoDB-wire server keeps, `_id`).
 * - `revision` counts the document's writes; closing and marking events published are compare-and-sets on it.
 * - `context` is a list of pairs (its keys may hold dots); `unpublished` is the outbox, `owed` its length (indexed).
 * - `v` is the format version (`ALERT_STORE_FORMAT`), checked before anything else is read.
 */
import type { Collection, Filter, MongoClient } from 'mongodb';
import {
  checkRecordVersion,
  documentLocation,
  recordFormat,
  TidemarkError,
  versionFilters,
  type AlertSeverity,
} from '@tidemark/domain';
import {
  compareAlertsNewestFirst,
  withoutPublished,
  type AlertEntry,
  type AlertEntryState,
  type AlertListQuery,
  type AlertStore,
  type StoreErrorClassifier,
} from '@tidemark/jobs';
import { guardCatalogCall } from './catalog-guard';

export const ALERTS_COLLECTION = 'alerts';
export const ALERT_STORE_FORMAT = recordFormat('alert', 1);
const READABLE = versionFilters(ALERT_STORE_FORMAT).readable as Filter<AlertDocument>;
const MAJORITY = { writeConcern: { w: 'majority' as const } };
const DUPLICATE_KEY = 11000;
const CAS_ATTEMPTS = 8;

interface AlertDocument {
  _id: string;
  v: number;
  alertId: string;
  jobId: string | null;
  project: string | null;
  code: string;
  subject: string;
  generation: number;
  severity: AlertSeverity;
  message: string;
  context: { k: string; v: string }[];
  state: AlertEntryState;
  openedAt: Date;
  closedAt: Date | null;
  closeReason: string | null;
  unpublished: AlertEntryState[];
  owed: number;
  revision: number;
}

/** The slot of an opening: unique per (job, code, subject, generation). */
export function alertSlot(e: Pick<AlertEntry, 'jobId' | 'code' | 'subject' | 'generation'>): string {
  return JSON.stringify([e.jobId, e.code, e.subject, e.generation]);
}

export class MongoAlertStore implements AlertStore {
  private readonly alerts: Collection<AlertDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.alerts = client.db(dbName).collection<AlertDocument>(ALERTS_COLLECTION);
  }

  /** Creates the indexes (one per call: FerretDB closes the connection on several that all exist). */
  async init(): Promise<void> {
    await this.guard('create the alerts indexes', async () => {
      await this.alerts.createIndex({ alertId: 1 }, { name: 'alert_id' });
      await this.alerts.createIndex({ project: 1, state: 1, openedAt: -1 }, { name: 'project_state_opened' });
      await this.alerts.createIndex({ jobId: 1, state: 1, openedAt: -1 }, { name: 'job_state_opened' });
      await this.alerts.createIndex(
        { jobId: 1, code: 1, subject: 1, generation: -1 },
        { name: 'key_generation' },
      );
      await this.alerts.createIndex({ state: 1, closedAt: 1 }, { name: 'state_closed' });
      await this.alerts.createIndex({ owed: 1 }, { name: 'owed' });
    });
  }

  async insertOpen(entry: AlertEntry): Promise<boolean> {
    return this.guard(`open alert ${entry.alertId}`, async () => {
      try {
        await this.alerts.insertOne(toDocument(entry, 1), MAJORITY);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
        throw err;
      }
    });
  }

  async latest(jobId: string | null, code: string, subject: string): Promise<AlertEntry | undefined> {
    const doc = await this.guard(`read the newest ${code} alert of ${jobId ?? 'no job'}`, () =>
      this.alerts.find({ jobId, code, subject }).sort({ generation: -1 }).limit(1).next(),
    );
    return doc === null ? undefined : this.fromDocument(doc);
  }

  async get(alertId: string): Promise<AlertEntry | undefined> {
    const doc = await this.read(alertId);
    return doc === undefined ? undefined : this.fromDocument(doc);
  }

  async close(alertId: string, closedAt: Date, reason: string): Promise<AlertEntry | undefined> {
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const doc = await this.read(alertId);
      if (doc === undefined) return undefined;
      const entry = this.fromDocument(doc);
      if (entry.state !== 'open') return undefined;
      const closed: AlertEntry = {
        ...entry,
        state: 'closed',
        closedAt,
        closeReason: reason,
        unpublished: [...entry.unpublished, 'closed'],
      };
      if (await this.replace(closed, doc)) return closed;
    }
    throw this.conflict(alertId);
  }

  async markPublished(alertId: string, published: readonly AlertEntryState[]): Promise<void> {
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const doc = await this.read(alertId);
      if (doc === undefined) return;
      const entry = this.fromDocument(doc);
      const left = withoutPublished(entry.unpublished, published);
      if (left.length === entry.unpublished.length) return;
      if (await this.replace({ ...entry, unpublished: left }, doc)) return;
    }
    throw this.conflict(alertId);
  }

  async list(query: AlertListQuery): Promise<AlertEntry[]> {
    const filter: Filter<AlertDocument> = {};
    if (query.project !== undefined) filter.project = { $in: [query.project, null] };
    if (query.jobId !== undefined) filter.jobId = query.jobId;
    if (query.noJob === true) filter.jobId = null;
    if (query.state !== undefined) filter.state = query.state;
    const docs = await this.guard('list alerts', () =>
      this.alerts.find(filter).sort({ openedAt: -1, alertId: -1 }).limit(query.limit).toArray(),
    );
    return docs.map((d) => this.fromDocument(d)).sort(compareAlertsNewestFirst);
  }

  async listUnpublished(limit: number): Promise<AlertEntry[]> {
    const docs = await this.guard('list alerts owing events', () =>
      this.alerts
        .find({ owed: { $gt: 0 } })
        .limit(limit)
        .toArray(),
    );
    return docs.map((d) => this.fromDocument(d));
  }

  async deleteClosedBefore(before: Date): Promise<number> {
    const result = await this.guard('delete closed alerts', () =>
      this.alerts.deleteMany({ state: 'closed', closedAt: { $lt: before }, owed: 0, ...READABLE }, MAJORITY),
    );
    return result.deletedCount;
  }

  private async read(alertId: string): Promise<AlertDocument | undefined> {
    const doc = await this.guard(`read alert ${alertId}`, () => this.alerts.findOne({ alertId }));
    return doc ?? undefined;
  }

  /** Compare-and-set on the document's revision; true when it was still `doc`'s. */
  private async replace(entry: AlertEntry, doc: AlertDocument): Promise<boolean> {
    const result = await this.guard(`write alert ${entry.alertId}`, () =>
      this.alerts.replaceOne(
        { _id: doc._id, revision: doc.revision, ...READABLE },
        toDocument(entry, doc.revision + 1),
        MAJORITY,
      ),
    );
    return result.matchedCount === 1;
  }

  private conflict(alertId: string): TidemarkError {
    return new TidemarkError(
      `alert store: alert ${alertId} changed concurrently ${CAS_ATTEMPTS} times; retry`,
      {
        retriable: true,
      },
    );
  }

  private fromDocument(d: AlertDocument): AlertEntry {
    checkRecordVersion(ALERT_STORE_FORMAT, d, documentLocation(this.dbName, ALERTS_COLLECTION, d._id));
    return {
      alertId: d.alertId,
      jobId: d.jobId,
      project: d.project,
      code: d.code,
      subject: d.subject,
      generation: Number(d.generation),
      severity: d.severity,
      message: d.message,
      context: Object.fromEntries(d.context.map((p) => [p.k, p.v])),
      state: d.state,
      openedAt: d.openedAt,
      closedAt: d.closedAt ?? undefined,
      closeReason: d.closeReason ?? undefined,
      unpublished: [...d.unpublished],
    };
  }

  private guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    return guardCatalogCall('alert store', this.classify, what, op);
  }
}

function toDocument(e: AlertEntry, revision: number): AlertDocument {
  return {
    _id: alertSlot(e),
    v: ALERT_STORE_FORMAT.current,
    alertId: e.alertId,
    jobId: e.jobId,
    project: e.project,
    code: e.code,
    subject: e.subject,
    generation: e.generation,
    severity: e.severity,
    message: e.message,
    context: Object.entries(e.context).map(([k, v]) => ({ k, v })),
    state: e.state,
    openedAt: e.openedAt,
    closedAt: e.closedAt ?? null,
    closeReason: e.closeReason ?? null,
    unpublished: [...e.unpublished],
    owed: e.unpublished.length,
    revision,
  };
}
