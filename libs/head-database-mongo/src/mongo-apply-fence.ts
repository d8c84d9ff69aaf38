/**
 * `MongoApplyFence`: the `ApplyFence` port of `@tidemark/snapshots` on the backup-side MongoDB. The fence request is
 * a `fences` document (`MongoFenceStore`) and the fence itself is the job's apply lease `apply:<jobId>` in `leases`
 * (`MongoLeaseStore`), taken under the fence's owner once the oplog-applier's `ApplyScheduler` has let go of it; the
 * logic is `ApplyFenceHolder` of `@tidemark/head-database` (docs/format.md, "Snapshot fence").
 */
import type { MongoClient } from 'mongodb';
import { ApplyFenceHolder, type ApplyFenceHolderOptions } from '@tidemark/head-database';
import type { ApplyFence, ApplyFenceGrant } from '@tidemark/snapshots';
import { MongoFenceStore } from './mongo-fence-store';
import { MongoLeaseStore } from './mongo-lease-store';

export class MongoApplyFence implements ApplyFence {
  private readonly holder: ApplyFenceHolder;

  /** `metaDb` must be the oplog-applier's (`TIDEMARK_META_DB`): its leases are the ones fenced. */
  constructor(client: MongoClient, metaDb: string, options: ApplyFenceHolderOptions = {}) {
    const clock = options.clock ?? Date.now;
    this.holder = new ApplyFenceHolder(
      {
        leases: new MongoLeaseStore(client, metaDb, clock),
        fences: new MongoFenceStore(client, metaDb, clock),
      },
      options,
    );
  }

  hold(jobId: string, owner: string, ttlMs: number, waitMs: number): Promise<ApplyFenceGrant | undefined> {
    return this.holder.hold(jobId, owner, ttlMs, waitMs);
  }

  renew(jobId: string, owner: string, ttlMs: number): Promise<ApplyFenceGrant | undefined> {
    return this.holder.renew(jobId, owner, ttlMs);
  }

  release(jobId: string, owner: string): Promise<void> {
    return this.holder.release(jobId, owner);
  }
}
