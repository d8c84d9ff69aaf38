/**
 * A groomer in its own process, for the grooming crash spec: grooms one job of a filesystem, blockstore or s3 snapshot
 * store once, with the product's `groom` (grace 0, batches of `batchSize` blocks), and prints `deleted <n>` after
 * each batch it deletes, so the spec can SIGKILL it part-way through the sweep. Prints `finished <report>` if it lives
 * that long.
 * Usage: node --import tsx groom-once.ts <kind> <root|database> <jobId> <lockTtlMs> <batchSize> [s3 prefix]
 * (the s3 store's metadata is in <database>, its objects in the endpoints' bucket under the prefix).
 */
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { groom, type SnapshotStore, type StoreKind } from '@tidemark/snapshots';
import { createSnapshotStore } from '../create-snapshot-store';

/** The store, with every `deleteBlocks` reported on stdout once it resolved (all calls go to the real store). */
function reportingDeletes(store: SnapshotStore): SnapshotStore {
  let deleted = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'deleteBlocks') {
        return async (jobId: string, addresses: readonly string[]) => {
          const result = await target.deleteBlocks(jobId, addresses);
          deleted += addresses.length;
          process.stdout.write(`deleted ${deleted}\n`);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const [kind, where, jobId, lockTtlMs, batchSize, prefix] = process.argv.slice(2) as [
    StoreKind,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const endpoints = resolveEndpoints();
  const client = kind === 'filesystem' ? undefined : await MongoClient.connect(endpoints.backup.uri);
  const s3 = kind === 's3' ? createS3Client(endpoints.s3, { maxAttempts: 1 }) : undefined;
  const store = await createSnapshotStore(kind, {
    ...(client === undefined ? {} : { mongo: { client, database: where } }),
    ...(kind === 'filesystem' ? { filesystem: { root: where } } : {}),
    ...(s3 === undefined
      ? {}
      : {
          s3: {
            client: s3,
            bucket: endpoints.s3.bucket,
            prefix: prefix ?? '',
            classifyError: classifyS3Error,
          },
        }),
  });
  const report = await groom(reportingDeletes(store), {
    jobId,
    owner: `groomer-${process.pid}`,
    graceMs: 0,
    lockTtlMs: Number(lockTtlMs),
    batchSize: Number(batchSize),
  });
  process.stdout.write(`finished ${JSON.stringify(report)}\n`);
  await client?.close();
  s3?.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
