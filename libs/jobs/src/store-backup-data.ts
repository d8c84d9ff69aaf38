/**
 * The `JobBackupData` port over the backup-side stores, through their owners' ports (`HeadRegistry`, `HeadWriter`,
 * `OplogStore` of `@tidemark/domain`; the app passes `MongoHeadRegistry` / `MongoHeadWriter` of
 * `@tidemark/head-database-mongo` and `MongoOplogStore` of `@tidemark/oplog-store`): the head registry (`heads`:
 * applied position, scan catalog), the head writer (head databases `th_<job>_<sync>_<db>`) and the oplog store.
 * job-state never touches those collections itself (docs/architecture.md, "Who owns which store"). Driver failures
 * are classified (retriable or not) by the injected classifier, like every MongoDB error in Tidemark.
 */
import {
  syncIdOf,
  TidemarkError,
  type HeadRegistry,
  type HeadWriter,
  type OplogStore,
  type OpTime,
  type StoredSliceTotals,
} from '@tidemark/domain';
import type { HeadFacts, JobBackupData, StoreErrorClassifier } from './ports';

/** Runs a store call; a driver failure becomes a TidemarkError classified by `classify`. */
async function guarded<T>(what: string, op: () => Promise<T>, classify: StoreErrorClassifier): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof TidemarkError) throw err;
    const verdict = classify(err);
    throw new TidemarkError(`backup side: ${what} failed: ${verdict.reason}`, {
      retriable: verdict.retriable,
      cause: err,
    });
  }
}

export class StoreBackupData implements JobBackupData {
  constructor(
    private readonly heads: Pick<HeadRegistry, 'get' | 'remove'>,
    private readonly headWriter: Pick<HeadWriter, 'dropHead'>,
    private readonly oplogStore: Pick<
      OplogStore,
      'latestOplogTs' | 'oldestOplogTs' | 'countEntriesAfter' | 'storedTotals' | 'deleteSync'
    >,
    private readonly classify: StoreErrorClassifier,
  ) {}

  private guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    return guarded(what, op, this.classify);
  }

  async head(jobId: string, syncId: string): Promise<HeadFacts | undefined> {
    const record = await this.guard(`read head ${jobId}/${syncId}`, () => this.heads.get(jobId, syncId));
    if (record === undefined) return undefined;
    return {
      appliedTs: record.appliedTs,
      namespaces: (record.scan?.namespaces ?? []).map((n) => ({ ns: n.ns, headNs: n.headNs })),
    };
  }

  latestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    return this.guard(`read the newest stored oplog position of ${syncId}`, () =>
      this.oplogStore.latestOplogTs(jobId, syncId),
    );
  }

  oldestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    return this.guard(`read where the stored oplog of ${syncId} starts`, () =>
      this.oplogStore.oldestOplogTs(jobId, syncId),
    );
  }

  countOplogEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number> {
    return this.guard(`count stored oplog entries of ${syncId}`, () =>
      this.oplogStore.countEntriesAfter(jobId, syncId, p),
    );
  }

  storedSlices(jobId: string, syncId: string): Promise<StoredSliceTotals> {
    return this.guard(`total the stored slices of ${syncId}`, () =>
      this.oplogStore.storedTotals(jobId, syncId),
    );
  }

  /** Head databases first (the bulk), then the oplog-store slices, then the head record that describes them. */
  async deleteSync(jobId: string, syncNo: number): Promise<void> {
    const syncId = syncIdOf(jobId, syncNo);
    await this.guard(`drop the head databases of ${syncId}`, () => this.headWriter.dropHead(jobId, syncNo));
    await this.guard(`delete the oplog-store slices of ${syncId}`, () =>
      this.oplogStore.deleteSync(jobId, syncId),
    );
    await this.guard(`remove the head record of ${syncId}`, () => this.heads.remove(jobId, syncId));
  }
}
