/**
 * A snapshot taker in its own process, for the crash spec: takes one snapshot of a generated head (DOCS documents)
 * into a filesystem or blockstore store, printing `started` once its first block is stored; the spec SIGKILLs it.
 * Usage: node --import tsx take-one.ts <kind> <root|database> <jobId> <snapshotId> <docs>
 */
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { opTime } from '@tidemark/domain';
import {
  DEFAULT_BLOCK_CODEC,
  MemoryApplyFence,
  MemoryHeadSource,
  SnapshotTaker,
  type StoreKind,
} from '@tidemark/snapshots';
import { createSnapshotStore } from '../create-snapshot-store';

async function main(): Promise<void> {
  const [kind, where, jobId, snapshotId, docs] = process.argv.slice(2) as [
    StoreKind,
    string,
    string,
    string,
    string,
  ];
  const client = kind === 'blockstore' ? await MongoClient.connect(resolveEndpoints().backup.uri) : undefined;
  const store = await createSnapshotStore(kind, {
    ...(client === undefined ? {} : { mongo: { client, database: where } }),
    ...(kind === 'filesystem' ? { filesystem: { root: where } } : {}),
  });
  const syncId = `${jobId}-s1`;
  const head = new MemoryHeadSource();
  head.setNamespace(
    jobId,
    syncId,
    'shop.items',
    Array.from({ length: Number(docs) }, (_, n) => BSON.serialize({ _id: n, pad: `${n}:`.repeat(100) })),
  );
  head.setApplied(jobId, syncId, opTime(5000, 1));
  let told = false;
  await new SnapshotTaker({ head, fence: new MemoryApplyFence(), store }).take({
    jobId,
    syncId,
    snapshotId,
    owner: `taker-${process.pid}`,
    encoding: { codec: DEFAULT_BLOCK_CODEC },
    chunking: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
    timings: { leaseTtlMs: 3_000, renewEveryMs: 500 },
    onProgress: (p) => {
      if (!told && p.newBlocks > 0) {
        told = true;
        process.stdout.write('started\n');
      }
    },
  });
  process.stdout.write('finished\n');
  await client?.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
