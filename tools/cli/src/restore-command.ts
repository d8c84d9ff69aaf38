/**
 * `tidemark restore ...`: a snapshot, or a point in time, written into a MongoDB deployment (see `RESTORE_HELP`).
 * The restore runs in this process, reading the snapshot store and the oplog store directly (`restore-runner.ts`);
 * job-state's API says which job a snapshot belongs to and where its store is, and records the restore
 * (`restore-record.ts`: registered before anything is written, progress, a user's cancel, the end). Exit codes:
 * 0 the restore completed, 1 it failed, was cancelled or was refused (the reason, and what was written), 2 wrong
 * usage.
 */
import { TidemarkError } from '@tidemark/domain';
import { redactUri, type JobView } from '@tidemark/jobs';
import { once, parseCommand } from './args';
import { JobApiClient } from './job-api-client';
import { RESTORE_ADMIN_COMMANDS, RESTORE_ADMIN_HELP, runRestoreAdminCommand } from './restore-admin-command';
import { RestoreRecord } from './restore-record';
import { connectMongo } from '@tidemark/mongo';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DumpArchiveTarget,
  DumpDirectoryTarget,
  parseRename,
  parseRestorePoint,
  RestoreCancelledError,
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
  type RestoreRun,
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
                                   (job-state records each restore: its id is printed first, and --json has it)
${RESTORE_ADMIN_HELP}`;

type Usage = (message: string) => Error;

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
  if ((RESTORE_ADMIN_COMMANDS as readonly string[]).includes(argv[0] ?? ''))
    return runRestoreAdminCommand(argv, usage);
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
  if ([to, dump, archive].filter((o) => o !== undefined).length !== 1) {
    throw usage('restore needs exactly one of --to URI (a deployment), --dump DIR or --archive FILE');
  }
  if (to !== undefined && !/^mongodb(\+srv)?:\/\//.test(to)) {
    throw usage('--to must be a mongodb:// or mongodb+srv:// URI');
  }
  if (to === undefined && at !== undefined) {
    throw usage('--dump and --archive write a snapshot (--snapshot ID); a point in time needs --to URI');
  }
  if (parsed.flag('gzip') && archive === undefined) throw usage('--gzip goes with --archive FILE');
  const output: RestoreOutput =
    to !== undefined
      ? { kind: 'deployment', uri: to }
      : dump !== undefined
        ? { kind: 'dump', path: resolvePath(dump) }
        : { kind: 'archive', path: resolvePath(archive!), gzip: parsed.flag('gzip') };
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
  const record = await RestoreRecord.begin(api, {
    ...(snapshotId === undefined ? { jobId: job.id, point: at! } : { snapshotId }),
    target: output.kind === 'deployment' ? redactUri(output.uri) : pathToFileURL(output.path).href,
    include: [...selection.include],
    exclude: [...selection.exclude],
    renames: [...parsed.values('rename')],
    drop: parsed.flag('drop'),
  });
  process.stderr.write(
    `restore ${record.id} recorded in job-state (tidemark restore cancel ${record.id} stops it)\n`,
  );
  let outcome: RestoreOutcome;
  try {
    outcome = await restoreWithStores(job, output, {
      ...(snapshotId === undefined ? {} : { snapshotId }),
      ...(point === undefined ? {} : { point }),
      selection,
      drop: parsed.flag('drop'),
      signal: record.signal,
      onProgress: (p) => {
        record.onProgress(p);
        process.stderr.write(progressLine(p));
      },
    });
  } catch (err) {
    const ended = await record.finish({ error: err });
    if (asJson) {
      process.stdout.write(
        `${JSON.stringify(
          {
            id: record.id,
            state: ended?.state ?? (err instanceof RestoreCancelledError ? 'cancelled' : 'failed'),
            snapshotId: ended?.snapshotId ?? snapshotId ?? null,
            at: ended?.at ?? null,
            namespaces: ended?.namespaces ?? {},
            reason: record.abandoned
              ? (ended?.reason ?? '')
              : err instanceof Error
                ? err.message
                : String(err),
          },
          null,
          2,
        )}\n`,
      );
    }
    // Stopped because job-state had recorded the restore failed (abandoned): say that, not "cancelled".
    if (record.abandoned && ended?.reason) throw new TidemarkError(ended.reason, { retriable: false });
    throw err;
  }
  const recorded = await record.finish({ end: outcome });
  if (record.abandoned) {
    process.stderr.write(
      `restore ${record.id} completed, but job-state had already recorded it ${recorded?.state ?? 'ended'} ` +
        `(${recorded?.reason ?? 'abandoned'}): its record and events do not show this completion\n`,
    );
  }
  if (asJson) {
    process.stdout.write(
      `${JSON.stringify(
        {
          id: record.id,
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
}

/** Where a restore writes: a deployment, or a dump directory or archive file. */
type RestoreOutput =
  | { readonly kind: 'deployment'; readonly uri: string }
  | { readonly kind: 'dump'; readonly path: string }
  | { readonly kind: 'archive'; readonly path: string; readonly gzip: boolean };

/** Opens the backup side and the target, runs the restore, and closes both. */
async function restoreWithStores(
  job: JobView,
  output: RestoreOutput,
  run: Pick<RestoreRun, 'snapshotId' | 'point' | 'selection' | 'drop' | 'signal' | 'onProgress'>,
): Promise<RestoreOutcome> {
  const side = await openBackupSide(job);
  try {
    if (output.kind !== 'deployment') {
      const target =
        output.kind === 'dump'
          ? new DumpDirectoryTarget(output.path)
          : new DumpArchiveTarget(output.path, { gzip: output.gzip });
      return await runRestore(side, { job, ...run, target });
    }
    const targetClient = await connectMongo(output.uri, { appName: 'tidemark-restore' });
    try {
      return await runRestore(side, { job, ...run, target: deploymentTarget(targetClient), targetClient });
    } finally {
      await targetClient.close();
    }
  } finally {
    await side.close();
  }
}
