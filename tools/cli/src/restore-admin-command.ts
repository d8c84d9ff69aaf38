/**
 * `tidemark restore list|status|cancel`: restores as job-state records them (docs/api.md, "Restores"). Exit codes:
 * 0 done, 1 the API refused (its reason: an unknown id, a finished restore), 2 wrong usage.
 */
import type { RestoreView } from '@tidemark/jobs';
import { parseCommand } from './args';
import { JobApiClient } from './job-api-client';

export const RESTORE_ADMIN_HELP = `  tidemark restore list [--job ID] [--json]
                                   restores newest first (of one job, or of all)
  tidemark restore status ID [--json]
                                   one restore: state, progress, result
  tidemark restore cancel ID       ask a running restore to stop (it stops between batches and ends cancelled)
`;

export const RESTORE_ADMIN_COMMANDS = ['list', 'status', 'cancel'] as const;

type Usage = (message: string) => Error;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function what(r: RestoreView): string {
  return r.kind === 'snapshot' ? `snapshot ${r.snapshotId ?? '?'}` : `point ${r.point ?? '?'}`;
}

function line(r: RestoreView): string {
  const cancel = r.cancelRequested && r.state === 'running' ? ' (cancel requested)' : '';
  return `${r.id}  ${r.state}${cancel}  ${what(r)} -> ${r.target}  ${r.documents} documents  started ${r.startedAt}\n`;
}

function details(r: RestoreView): string {
  const namespaces = Object.entries(r.namespaces).map(
    ([ns, n]) => `    ${ns}: ${n.documents} documents${n.done ? ', done' : ''}\n`,
  );
  return (
    `restore ${r.id} (job ${r.jobId})\n` +
    `  state     ${r.state}${r.cancelRequested ? ' (cancel requested)' : ''}\n` +
    `  from      ${what(r)}${r.at === null ? '' : ` at ${r.at.opTime}${r.at.wallTime === null ? '' : ` (${r.at.wallTime})`}`}\n` +
    `  to        ${r.target}${r.drop ? ' (--drop)' : ''}\n` +
    (r.include.length + r.exclude.length + r.renames.length === 0
      ? ''
      : `  selection include [${r.include.join(', ')}] exclude [${r.exclude.join(', ')}] rename [${r.renames.join(', ')}]\n`) +
    `  progress  ${r.documents} documents, ${r.bytes} bytes${r.entries > 0 ? `, ${r.entries} oplog entries` : ''}\n` +
    namespaces.join('') +
    `  started   ${r.startedAt}${r.endedAt === null ? '' : `, ended ${r.endedAt}`}\n` +
    (r.reason === null ? '' : `  reason    ${r.reason}\n`)
  );
}

export async function runRestoreAdminCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseCommand(rest, { job: 'string', json: 'boolean' }, usage);
  if (parsed.unknown.length > 0) throw usage(`restore ${sub}: unknown option ${parsed.unknown[0]}`);
  const api = new JobApiClient();
  const asJson = parsed.flag('json');
  if (sub === 'list') {
    if (parsed.positionals.length > 0)
      throw usage(`restore list: unexpected argument ${parsed.positionals[0]}`);
    const jobs = parsed.values('job');
    if (jobs.length > 1) throw usage('--job may be given once');
    const restores = await api.listRestores(jobs[0]);
    process.stdout.write(
      asJson ? json(restores) : restores.length === 0 ? 'no restores\n' : restores.map(line).join(''),
    );
    return 0;
  }
  if (parsed.values('job').length > 0) throw usage(`restore ${sub}: --job goes with restore list`);
  if (parsed.positionals.length !== 1) throw usage(`restore ${sub} needs exactly one restore ID`);
  const id = parsed.positionals[0]!;
  if (sub === 'status') {
    const r = await api.getRestore(id);
    process.stdout.write(asJson ? json(r) : details(r));
    return 0;
  }
  const r = await api.cancelRestore(id);
  process.stdout.write(
    asJson
      ? json(r)
      : `restore ${r.id}: cancel requested; it stops after its current batch and ends cancelled\n`,
  );
  return 0;
}
