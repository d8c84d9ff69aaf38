/**
 * The `JobBackupData` of `@tidemark/jobs` over the backup-side stores: the head registry (`heads`: applied
 * position, scan catalog), the head writer (head databases `th_<job>_<sync>_<db>`) and the oplog store. Driver
 * failures are classified (retriable or not) like every MongoDB error in Tidemark.
 */
import {
  syncIdOf,
  TidemarkError,
  type HeadRegistry,
  type HeadWriter,
  type OplogStore,
  type OpTime,
} from '@tidemark/domain';
import type { HeadFacts, JobBackupData } from '@tidemark/jobs';
import { classifyMongoError } from '@tidemark/mongo';

/** Runs a store call; a driver failure becomes a TidemarkError classified by `classifyMongoError`. */
async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof TidemarkError) throw err;
    const verdict = classifyMongoError(err);
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
    private readonly oplogStore: Pick<OplogStore, 'latestOplogTs' | 'countEntriesAfter' | 'deleteSync'>,
  ) {}

  async head(jobId: string, syncId: string): Promise<HeadFacts | undefined> {
    const record = await guard(`read head ${jobId}/${syncId}`, () => this.heads.get(jobId, syncId));
    if (record === undefined) return undefined;
    return {
      appliedTs: record.appliedTs,
      namespaces: (record.scan?.namespaces ?? []).map((n) => ({ ns: n.ns, headNs: n.headNs })),
    };
  }

  latestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    return guard(`read the newest stored oplog position of ${syncId}`, () =>
      this.oplogStore.latestOplogTs(jobId, syncId),
    );
  }

  countOplogEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number> {
    return guard(`count stored oplog entries of ${syncId}`, () =>
      this.oplogStore.countEntriesAfter(jobId, syncId, p),
    );
  }

  /** Head databases first (the bulk), then the oplog-store slices, then the head record that describes them. */
  async deleteSync(jobId: string, syncNo: number): Promise<void> {
    const syncId = syncIdOf(jobId, syncNo);
    await guard(`drop the head databases of ${syncId}`, () => this.headWriter.dropHead(jobId, syncNo));
    await guard(`delete the oplog-store slices of ${syncId}`, () =>
      this.oplogStore.deleteSync(jobId, syncId),
    );
    await guard(`remove the head record of ${syncId}`, () => this.heads.remove(jobId, syncId));
  }
}
