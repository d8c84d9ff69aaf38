/**
 * `recordingDatabases(target, registry, job)`: an {@link ApplyTarget} that records every head database it is about to
 * write into (`HeadRegistry.recordDatabase`) before the write, once per database and process. The oplog-applier
 * writes through it, so the head record names every database the head can hold: the scan and missing-documents
 * catalogs name the ones the transfer filled, the recorded ones those the oplog created or renamed into. A snapshot
 * then lists collections in those databases only (`MongoHeadSource.listNamespaces`), never every database of the
 * server (on FerretDB `listDatabases` takes seconds: it sizes every database).
 *
 * Recording comes first, the write second: a crash between them leaves a recorded database that may not exist,
 * which lists as empty. Reads (`findById`) record nothing. Namespaces are head namespaces (`db.coll`); the database is
 * the part before the first dot (head database names have none).
 */
import type { ApplyTarget, HeadRegistry } from '@tidemark/domain';
import type { ApplyJob } from './ports';

export function recordingDatabases(
  target: ApplyTarget,
  registry: Pick<HeadRegistry, 'recordDatabase'>,
  job: Pick<ApplyJob, 'jobId' | 'syncId'>,
  /** Databases already recorded for this sync by this process (shared across turns); a fresh set by default. */
  recorded: Set<string> = new Set(),
): ApplyTarget {
  const record = async (nsOrDb: string): Promise<void> => {
    const dot = nsOrDb.indexOf('.');
    const db = dot < 0 ? nsOrDb : nsOrDb.slice(0, dot);
    if (recorded.has(db)) return;
    await registry.recordDatabase(job.jobId, job.syncId, db);
    recorded.add(db);
  };
  const wrapped: ApplyTarget = {
    capabilities: target.capabilities,
    insertOrReplace: async (ns, doc) => (await record(ns), target.insertOrReplace(ns, doc)),
    update: async (ns, filter, update) => (await record(ns), target.update(ns, filter, update)),
    delete: async (ns, filter) => (await record(ns), target.delete(ns, filter)),
    createCollection: async (ns, options) => (await record(ns), target.createCollection(ns, options)),
    dropCollection: async (ns) => (await record(ns), target.dropCollection(ns)),
    renameCollection: async (from, to, dropTarget) => {
      await record(to);
      return target.renameCollection(from, to, dropTarget);
    },
    dropDatabase: async (db) => (await record(db), target.dropDatabase(db)),
    createIndexes: async (ns, specs) => (await record(ns), target.createIndexes(ns, specs)),
    dropIndexes: async (ns, names) => (await record(ns), target.dropIndexes(ns, names)),
    collMod: async (ns, options) => (await record(ns), target.collMod(ns, options)),
    convertToCapped: async (ns, options) => (await record(ns), target.convertToCapped(ns, options)),
  };
  if (target.findById !== undefined) {
    const findById = target.findById.bind(target);
    wrapped.findById = (ns, filter) => findById(ns, filter);
  }
  return wrapped;
}

/** Per sync, the databases this process has recorded: `targets(job)` of the apply loop wraps with these. */
export class RecordedDatabases {
  private readonly bySync = new Map<string, Set<string>>();

  constructor(private readonly registry: Pick<HeadRegistry, 'recordDatabase'>) {}

  /** `target`, recording the databases of `job`'s head before writing into them. */
  target(target: ApplyTarget, job: Pick<ApplyJob, 'jobId' | 'syncId'>): ApplyTarget {
    const key = `${job.jobId}/${job.syncId}`;
    let recorded = this.bySync.get(key);
    if (recorded === undefined) this.bySync.set(key, (recorded = new Set()));
    return recordingDatabases(target, this.registry, job, recorded);
  }
}
