/**
 * A groomer in its own process, for the grooming-race spec: grooms one job of a filesystem or blockstore snapshot
 * store in a loop, with random pauses, until killed or `ROUNDS` rounds are done. Prints one JSON line per round.
 * Usage: node --import tsx groom-loop.ts <kind> <root|database> <jobId> <rounds>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { groom, type StoreKind } from '@tidemark/snapshots';
import { createSnapshotStore } from '../create-snapshot-store';

async function main(): Promise<void> {
  const [kind, where, jobId, rounds] = process.argv.slice(2) as [StoreKind, string, string, string];
  const client = kind === 'blockstore' ? await MongoClient.connect(resolveEndpoints().backup.uri) : undefined;
  const store = await createSnapshotStore(kind, {
    ...(client === undefined ? {} : { mongo: { client, database: where } }),
    ...(kind === 'filesystem' ? { filesystem: { root: where } } : {}),
  });
  for (let n = 0; n < Number(rounds); n++) {
    await sleep(Math.floor(Math.random() * 40));
    try {
      // Grace 0: every record that is not complete or in progress leaves its blocks to the sweep at once.
      const report = await groom(store, {
        jobId,
        owner: `groomer-${process.pid}`,
        graceMs: 0,
        lockTtlMs: 10_000,
      });
      process.stdout.write(`${JSON.stringify({ round: n, deleted: report.blocksDeleted })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ round: n, busy: String(err).slice(0, 200) })}\n`);
    }
  }
  await client?.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
