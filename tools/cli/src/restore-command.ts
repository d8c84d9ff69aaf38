/**
 * `tidemark restore ...`: a snapshot, or a point in time, written into a MongoDB deployment (see `RESTORE_HELP`).
 * The restore runs in this process, reading the snapshot store and the oplog store directly (`restore-runner.ts`);
 * job-state's API says which job a snapshot belongs to and where its store is. Exit codes: 0 the restore completed,
 * 1 it failed or was refused (the reason, and what was written), 2 wrong usage.
 */
import { parseCommand, type ParsedCommand } from './args';
import { JobApiClient } from './job-api-client';
import { connectMongo } from '@tidemark/mongo';
import {
  DumpArchiveTarget,
  DumpDirectoryTarget,
  parseRename,
  parseRestorePoint,
  validateSelection,
  type RestoreProgress,
  type RestoreSelection,
} from '@tidemark/restore';
import {
  deploymentTarget,
  openBackupSide,
  refuseSource,
  runRestore,
  type RestoreOutcome,
} from './restore-runner';

export const RESTORE_HELP = `  tidemark restore --snapshot ID --to URI [--include NS]... [--exclude NS]... [--rename FROM=TO]...
                   [--drop] [--to-source] [--json]
                                   write a snapshot into a MongoDB deployment (never the job's source without
                                   --to-source; a non-empty target namespace is refused without --drop)
  tidemark restore --job ID --at T --to URI [same options]
                                   the state at T (ISO instant with a timezone, or an oplog position t:i): the
                                   newest snapshot at or before T plus the stored oplog up to T
  tidemark restore --snapshot ID --dump DIR | --archive FILE [--gzip] [--include/--exclude/--rename ...] [--drop]
                                   a dump mongorestore reads (a directory of .bson and .metadata.json files, or
                                   its archive format), written atomically (docs/format.md, "Restore dumps")
`;

type Usage = (message: string) => Error;

function once(parsed: ParsedCommand, name: string, usage: Usage): string | undefined {
  const values = parsed.values(name);
  if (values.length > 1) throw usage(`--${name} may be given once`);
  return values[0];
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function progressLine(p: RestoreProgress): string {
  const done = Object.values(p.namespaces).filter((n) => n.done).length;
  const total = Object.keys(p.namespaces).length;
  const replay = p.entries > 0 ? `, ${p.entries} oplog entries replayed` : '';
  return `restore: ${p.documents} documents (${mb(p.bytes)}), ${done}/${total} namespaces complete${replay}\n`;
}

function summary(o: RestoreOutcome): string {
  const lines = Object.entries(o.namespaces).map(
    ([ns, n]) =>
      `  ${ns}${n.sourceNs === ns ? '' : ` (from ${n.sourceNs})`}: ${n.documents} documents, ${mb(n.bytes)}\n`,
  );
  return (
    `restored snapshot ${o.snapshotId} to ${o.at.opTime}${o.at.wallTime === null ? '' : ` (${o.at.wallTime})`}` +
    `${o.entries > 0 ? `, ${o.entries} oplog entries replayed` : ''}: ${o.documents} documents, ${mb(o.bytes)}\n` +
    lines.join('')
  );
}

export async function runRestoreCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      snapshot: 'string',
      job: 'string',
      at: 'string',
      to: 'string',
      dump: 'string',
      archive: 'string',
      gzip: 'boolean',
      include: 'string',
      exclude: 'string',
      rename: 'string',
      drop: 'boolean',
      'to-source': 'boolean',
      json: 'boolean',
    },
    usage,
  );
  if (parsed.unknown.length > 0) throw usage(`restore: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length > 0) throw usage(`restore: unexpected argument ${parsed.positionals[0]}`);
  const snapshotId = once(parsed, 'snapshot', usage);
  const jobId = once(parsed, 'job', usage);
  const at = once(parsed, 'at', usage);
  const to = once(parsed, 'to', usage);
  if ((snapshotId === undefined) === (jobId === undefined))
    throw usage('restore needs either --snapshot ID or --job ID --at T');
  if (jobId !== undefined && at === undefined) throw usage('restore --job needs --at T');
  if (snapshotId !== undefined && at !== undefined) throw usage('--at goes with --job, not --snapshot');
  const dump = once(parsed, 'dump', usage);
  const archive = once(parsed, 'archive', usage);
  const outputs = [to, dump, archive].filter((o) => o !== undefined).length;
  if (outputs !== 1) {
    throw usage('restore needs exactly one of --to URI (a deployment), --dump DIR or --archive FILE');
  }
  if (to !== undefined && !/^mongodb(\+srv)?:\/\//.test(to)) {
    throw usage('--to must be a mongodb:// or mongodb+srv:// URI');
  }
  if (to === undefined && at !== undefined) {
    throw usage('--dump and --archive write a snapshot (--snapshot ID); a point in time needs --to URI');
  }
  if (parsed.flag('gzip') && archive === undefined) throw usage('--gzip goes with --archive FILE');
  const selection: RestoreSelection = {
    include: parsed.values('include'),
    exclude: parsed.values('exclude'),
    renames: parsed.values('rename').map(parseRename),
  };
  validateSelection(selection);
  const point = at === undefined ? undefined : parseRestorePoint(at);
  const asJson = parsed.flag('json');

  const api = new JobApiClient();
  const job = await api.get(jobId ?? (await api.getSnapshot(snapshotId!)).jobId);
  if (to !== undefined) refuseSource(job, to, parsed.flag('to-source'));
  const side = await openBackupSide(job);
  try {
    const targetClient =
      to === undefined ? undefined : await connectMongo(to, { appName: 'tidemark-restore' });
    try {
      const target =
        targetClient !== undefined
          ? deploymentTarget(targetClient)
          : dump !== undefined
            ? new DumpDirectoryTarget(dump)
            : new DumpArchiveTarget(archive!, { gzip: parsed.flag('gzip') });
      const outcome = await runRestore(side, {
        job,
        ...(snapshotId === undefined ? {} : { snapshotId }),
        ...(point === undefined ? {} : { point }),
        target,
        ...(targetClient === undefined ? {} : { targetClient }),
        selection,
        drop: parsed.flag('drop'),
        onProgress: (p) => process.stderr.write(progressLine(p)),
      });
      if (asJson) {
        process.stdout.write(
          `${JSON.stringify(
            {
              id: `${outcome.snapshotId}@${outcome.at.opTime}`,
              state: 'complete',
              snapshotId: outcome.snapshotId,
              at: outcome.at,
              namespaces: Object.fromEntries(
                Object.entries(outcome.namespaces).map(([ns, n]) => [
                  ns,
                  { documents: n.documents, bytes: n.bytes },
                ]),
              ),
              documents: outcome.documents,
              entries: outcome.entries,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        process.stdout.write(summary(outcome));
      }
      return 0;
    } finally {
      await targetClient?.close();
    }
  } finally {
    await side.close();
  }
}
