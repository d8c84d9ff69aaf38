/**
 * `createSnapshotStore(kind, deps)`: the one place a job's `--store` kind becomes a store. The app passes the
 * connections it owns and the workspace's error tables; the store's indexes are created before it is returned.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { MongoClient } from 'mongodb';
import { STORE_KINDS, type SnapshotStore, type StoreKind } from '@tidemark/snapshots';
import { FileSystemSnapshotStore } from './filesystem-snapshot-store';
import { MongoBlockstore } from './mongo-blockstore';
import { S3SnapshotStore, type S3SnapshotStoreOptions } from './s3-snapshot-store';
import type { StoreErrorClassifier } from './store-errors';

/** What `deps.s3` passes on to the `s3` store as it is. */
type S3Setting =
  | 'bucket'
  | 'prefix'
  | 'backoff'
  | 'maxAttempts'
  | 'maxElapsedMs'
  | 'multipartThresholdBytes'
  | 'partBytes'
  | 'conditionalWrites';

export interface SnapshotStoreDeps {
  /** `blockstore` and `s3`: the backup-side MongoDB. */
  readonly mongo?: {
    readonly client: MongoClient;
    /** Default `tidemark_snapshots`. */
    readonly database?: string;
    /** `classifyMongoError` of `@tidemark/mongo`. */
    readonly classifyError?: StoreErrorClassifier;
  };
  /**
   * `s3`: the bucket (the client built with `maxAttempts: 1`; the store retries) and the store's own settings, as
   * `S3SnapshotStoreOptions` documents them.
   */
  readonly s3?: {
    readonly client: S3Client;
    /** `classifyS3Error` of `@tidemark/s3`. */
    readonly classifyError: StoreErrorClassifier;
  } & Pick<S3SnapshotStoreOptions, S3Setting>;
  /** `filesystem`: the root directory. */
  readonly filesystem?: { readonly root: string };
  /** The lock's clock (default `Date.now`). */
  readonly clock?: () => number;
}

/** Builds (and initialises) the store of `kind`; throws `RangeError` naming what `deps` lacks. */
export async function createSnapshotStore(kind: StoreKind, deps: SnapshotStoreDeps): Promise<SnapshotStore> {
  const clock = deps.clock === undefined ? {} : { clock: deps.clock };
  switch (kind) {
    case 'filesystem': {
      if (!deps.filesystem) throw new RangeError('the filesystem snapshot store needs deps.filesystem.root');
      return new FileSystemSnapshotStore({ root: deps.filesystem.root, ...clock });
    }
    case 'blockstore': {
      const mongo = deps.mongo ?? missing('blockstore', 'deps.mongo (the backup-side MongoDB client)');
      const store = new MongoBlockstore(mongo.client, {
        ...(mongo.database === undefined ? {} : { database: mongo.database }),
        ...(mongo.classifyError === undefined ? {} : { classifyError: mongo.classifyError }),
        ...clock,
      });
      await store.init();
      return store;
    }
    case 's3': {
      const mongo =
        deps.mongo ?? missing('s3', 'deps.mongo (the backup-side MongoDB client, for the metadata)');
      const s3 = deps.s3 ?? missing('s3', 'deps.s3 (client, bucket, classifyError)');
      const { client, classifyError, ...tuning } = s3;
      const store = new S3SnapshotStore({
        ...tuning,
        s3: client,
        classifyS3Error: classifyError,
        mongo: mongo.client,
        ...(mongo.database === undefined ? {} : { database: mongo.database }),
        ...(mongo.classifyError === undefined ? {} : { classifyMongoError: mongo.classifyError }),
        ...clock,
      });
      await store.init();
      return store;
    }
    default:
      throw new RangeError(
        `unknown snapshot store kind ${JSON.stringify(kind)}: one of ${STORE_KINDS.join(', ')}`,
      );
  }
}

function missing(kind: string, what: string): never {
  throw new RangeError(`the ${kind} snapshot store needs ${what}`);
}
