/**
 * `MongoAuditStore`: the `AuditStore` port of `@tidemark/access` in job-state's meta database, `<meta>.audit`, one
 * document per audit event (`_id` = event id), written only by job-state: the event's fields (absent values
 * `null`) and `owed: true` until the event is published on `tidemark.audit` (the outbox). Indexed by project and
 * time (the API's listing), by time (the admin's), and by `owed` (the flush). `v` is the format version, checked
 * before anything else is read. Inserts are majority-acknowledged, so an event is durable before the API answers.
 */
import type { Collection, Filter, MongoClient } from 'mongodb';
import { compareAuditNewestFirst, type AuditListQuery, type AuditStore } from '@tidemark/access';
import {
  checkRecordVersion,
  documentLocation,
  recordFormat,
  versionFilters,
  TidemarkError,
  type AuditEvent,
  type AuditOutcome,
} from '@tidemark/domain';
import type { StoreErrorClassifier } from './mongo-access-store';

export const AUDIT_COLLECTION = 'audit';
export const AUDIT_FORMAT = recordFormat('audit event', 1);
const READABLE = versionFilters(AUDIT_FORMAT).readable as Filter<AuditDocument>;
const MAJORITY = { writeConcern: { w: 'majority' as const } };

interface AuditDocument {
  _id: string;
  v?: number;
  at: Date;
  actor: string;
  project: string | null;
  action: string;
  resource: { kind: string; id: string | null };
  outcome: AuditOutcome;
  status: number;
  stateBefore: string | null;
  stateAfter: string | null;
  reason: string | null;
  method: string;
  path: string;
  requestId: string;
  clientAddress: string | null;
  owed: boolean;
}

export class MongoAuditStore implements AuditStore {
  private readonly events: Collection<AuditDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.events = client.db(dbName).collection<AuditDocument>(AUDIT_COLLECTION);
  }

  async init(): Promise<void> {
    await this.guard('create the audit indexes', async () => {
      await this.events.createIndex({ project: 1, at: -1, _id: -1 }, { name: 'project-newest' });
      await this.events.createIndex({ at: -1, _id: -1 }, { name: 'newest' });
      await this.events.createIndex({ owed: 1, at: 1 }, { name: 'owed-oldest' });
    });
  }

  async insert(event: AuditEvent): Promise<void> {
    await this.guard(`record audit event ${event.eventId}`, () =>
      this.events.insertOne(toDocument(event), MAJORITY),
    );
  }

  async markPublished(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.guard(`mark ${eventIds.length} audit event(s) published`, () =>
      this.events.updateMany(
        { _id: { $in: [...eventIds] }, ...READABLE },
        { $set: { owed: false } },
        MAJORITY,
      ),
    );
  }

  async owed(limit: number): Promise<AuditEvent[]> {
    const docs = await this.guard('list owed audit events', () =>
      this.events.find({ owed: true }).sort({ at: 1, _id: 1 }).limit(limit).toArray(),
    );
    return docs.map((d) => this.fromDocument(d));
  }

  async list(query: AuditListQuery): Promise<AuditEvent[]> {
    const filter: Filter<AuditDocument> = {};
    if (query.project !== undefined) filter.project = query.project;
    if (query.before !== undefined) filter.at = { $lt: query.before };
    const docs = await this.guard(
      `list audit events${query.project === undefined ? '' : ` of project ${query.project}`}`,
      () => this.events.find(filter).sort({ at: -1, _id: -1 }).limit(query.limit).toArray(),
    );
    return docs.map((d) => this.fromDocument(d)).sort(compareAuditNewestFirst);
  }

  private fromDocument(d: AuditDocument): AuditEvent {
    checkRecordVersion(AUDIT_FORMAT, d, documentLocation(this.dbName, AUDIT_COLLECTION, d._id));
    return {
      eventId: d._id,
      at: d.at,
      actor: d.actor,
      project: d.project ?? undefined,
      action: d.action,
      resource: { kind: d.resource.kind, id: d.resource.id ?? undefined },
      outcome: d.outcome,
      status: d.status,
      stateBefore: d.stateBefore ?? undefined,
      stateAfter: d.stateAfter ?? undefined,
      reason: d.reason ?? undefined,
      method: d.method,
      path: d.path,
      requestId: d.requestId,
      clientAddress: d.clientAddress ?? undefined,
    };
  }

  private async guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof TidemarkError) throw err;
      const verdict = this.classify(err);
      throw new TidemarkError(`audit store: ${what} failed: ${verdict.reason}`, {
        retriable: verdict.retriable,
        cause: err,
      });
    }
  }
}

function toDocument(e: AuditEvent): AuditDocument {
  return {
    _id: e.eventId,
    v: AUDIT_FORMAT.current,
    at: e.at,
    actor: e.actor,
    project: e.project ?? null,
    action: e.action,
    resource: { kind: e.resource.kind, id: e.resource.id ?? null },
    outcome: e.outcome,
    status: e.status,
    stateBefore: e.stateBefore ?? null,
    stateAfter: e.stateAfter ?? null,
    reason: e.reason ?? null,
    method: e.method,
    path: e.path,
    requestId: e.requestId,
    clientAddress: e.clientAddress ?? null,
    owed: true,
  };
}
