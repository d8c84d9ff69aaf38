/**
 * A restore in its own process, for the restore crash spec: restores a snapshot of a filesystem store into the
 * backup-side MongoDB through the CLI's composition (`openBackupSide`, `runRestore`, `deploymentTarget`), printing
 * `documents <n>` after every batch, so the spec can SIGKILL it part-way. Prints `complete <documents>` at the end;
 * a refused or failed restore exits 1 with the reason on stderr.
 * Usage: node --import tsx restore-child.ts <store root> <jobId> <snapshotId> <target db> [--drop]
 */
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import type { JobView } from '@tidemark/jobs';
import { deploymentTarget, openBackupSide, runRestore } from '../restore-runner';

async function main(): Promise<void> {
  const [root, jobId, snapshotId, targetDb, drop] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string?,
  ];
  const job = {
    id: jobId,
    source: { uri: 'mongodb://source.invalid:27017/' },
    snapshotStore: { kind: 'filesystem', path: root },
  } as unknown as JobView;
  const side = await openBackupSide(job);
  const target = await new MongoClient(resolveEndpoints().backup.uri).connect();
  try {
    const outcome = await runRestore(side, {
      job,
      snapshotId,
      target: deploymentTarget(target),
      targetClient: target,
      selection: { include: [], exclude: [], renames: [{ from: 'shop', to: targetDb }] },
      drop: drop === '--drop',
      progressIntervalMs: 0,
      onProgress: (p) => process.stdout.write(`documents ${p.documents}\n`),
    });
    process.stdout.write(`complete ${outcome.documents}\n`);
  } finally {
    await target.close();
    await side.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
