/**
 * `tidemark snapshot ...`: a job's snapshots through job-state's REST API (docs/api.md, "Snapshots"). See
 * `SNAPSHOT_HELP`. Exit codes: 0 done (and, for verify, intact), 1 failed (the API's reason, a failed snapshot,
 * damage found, a timeout), 2 wrong usage.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SnapshotView } from '@tidemark/jobs';
import { parseCommand, type ParsedCommand } from './args';
import { JobApiClient, JobApiError } from './job-api-client';
import { listMounts, mountSnapshot, unmountSnapshot } from './snapshot-mount';

/** How long a mount lives unless `--ttl` says otherwise. */
const DEFAULT_MOUNT_TTL_MINUTES = 120;

export const SNAPSHOT_HELP = `  tidemark snapshot take JOB [--timeout SECONDS] [--json]
                                   take a snapshot now (active jobs only) and wait until it is complete
  tidemark snapshot list JOB [--json]
                                   the job's snapshots, newest first
  tidemark snapshot verify ID [--timeout SECONDS] [--json]
                                   re-read every block and checksum; exit 0 when intact, 1 naming the damage
  tidemark snapshot delete ID [--timeout SECONDS]
                                   delete a snapshot (its blocks go when nothing else references them)
  tidemark snapshot mount ID [--ttl MINUTES] [--json]
                                   restore it into scratch databases on the backup side (default 120 minutes, then
                                   dropped) and print a connection string that can only read them
  tidemark snapshot unmount MOUNT_ID | tidemark snapshot mounts [--json]
`;

type Usage = (message: string) => Error;

const POLL_MS = 500;
const DEFAULT_TIMEOUT_S = 600;

function onlyArgument(parsed: ParsedCommand, sub: string, what: string, usage: Usage): string {
  if (parsed.unknown.length > 0) throw usage(`snapshot ${sub}: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length !== 1) throw usage(`snapshot ${sub} needs exactly one ${what}`);
  return parsed.positionals[0]!;
}

function timeoutOf(parsed: ParsedCommand, usage: Usage): number {
  const [text, ...more] = parsed.values('timeout');
  if (more.length > 0) throw usage('--timeout may be given once');
  if (text === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw usage(`--timeout must be a positive number of seconds`);
  return seconds * 1000;
}

/** Polls the snapshot until `done` says so, or throws after `timeoutMs`. */
async function until(
  api: JobApiClient,
  snapshotId: string,
  timeoutMs: number,
  what: string,
  done: (s: SnapshotView) => boolean,
): Promise<SnapshotView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await api.getSnapshot(snapshotId);
    if (done(s)) return s;
    if (Date.now() > deadline) {
      throw new JobApiError(
        `timed out after ${timeoutMs / 1000} s waiting for ${what} (state ${s.state})`,
        undefined,
      );
    }
    await sleep(POLL_MS);
  }
}

const out = (text: string) => process.stdout.write(text);
const json = (value: unknown) => out(`${JSON.stringify(value, null, 2)}\n`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function formatSnapshotLine(s: SnapshotView): string {
  return `${s.id}  ${s.state.padEnd(11)} at ${s.opTime ?? '-'}  ${s.takenAt ?? '-'}  ${s.store}  ${mb(s.logicalBytes)} logical, ${mb(s.storedBytes)} stored, ${s.namespaces} namespaces${s.reason === null ? '' : `  (${s.reason})`}\n`;
}

export async function runSnapshotCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const top = parseCommand(argv, { json: 'boolean' }, usage);
  const asJson = top.flag('json');
  const [sub, ...args] = top.rest;
  const api = new JobApiClient();
  try {
    switch (sub) {
      case 'take': {
        const parsed = parseCommand(args, { timeout: 'string' }, usage);
        const jobId = onlyArgument(parsed, sub, 'job id', usage);
        const timeoutMs = timeoutOf(parsed, usage);
        const requested = await api.takeSnapshot(jobId);
        const done = await until(api, requested.id, timeoutMs, `snapshot ${requested.id}`, (s) =>
          ['complete', 'failed', 'deleted', 'expired'].includes(s.state),
        );
        if (asJson) json(done);
        else out(formatSnapshotLine(done));
        if (done.state !== 'complete') {
          process.stderr.write(
            `tidemark: snapshot ${done.id} is ${done.state}: ${done.reason ?? 'no reason given'}\n`,
          );
          return 1;
        }
        return 0;
      }
      case 'list': {
        const parsed = parseCommand(args, {}, usage);
        const snapshots = await api.listSnapshots(onlyArgument(parsed, sub, 'job id', usage));
        if (asJson) json(snapshots);
        else out(snapshots.length === 0 ? 'no snapshots\n' : snapshots.map(formatSnapshotLine).join(''));
        return 0;
      }
      case 'verify': {
        const parsed = parseCommand(args, { timeout: 'string' }, usage);
        const snapshotId = onlyArgument(parsed, sub, 'snapshot id', usage);
        const timeoutMs = timeoutOf(parsed, usage);
        const { requestId } = await api.verifySnapshot(snapshotId);
        const s = await until(
          api,
          snapshotId,
          timeoutMs,
          `the verify of ${snapshotId}`,
          (v) => v.lastVerify?.requestId === requestId,
        );
        const verify = s.lastVerify!;
        if (asJson) json({ snapshotId, ...verify });
        else if (verify.ok) out(`${snapshotId}: intact (every block and checksum verified)\n`);
        if (!verify.ok) {
          process.stderr.write(
            `tidemark: snapshot ${snapshotId} is damaged: ${verify.damagedBlocks} block(s): ${verify.reason ?? ''}\n`,
          );
          return 1;
        }
        return 0;
      }
      case 'delete': {
        const parsed = parseCommand(args, { timeout: 'string' }, usage);
        const snapshotId = onlyArgument(parsed, sub, 'snapshot id', usage);
        const timeoutMs = timeoutOf(parsed, usage);
        await api.deleteSnapshot(snapshotId);
        await until(
          api,
          snapshotId,
          timeoutMs,
          `the deletion of ${snapshotId}`,
          (s) => s.state === 'deleted',
        );
        out(`${snapshotId}: deleted\n`);
        return 0;
      }
      case 'mount': {
        const parsed = parseCommand(args, { ttl: 'string' }, usage);
        const snapshotId = onlyArgument(parsed, sub, 'snapshot id', usage);
        const [ttlText, ...more] = parsed.values('ttl');
        if (more.length > 0) throw usage('--ttl may be given once');
        const ttl = ttlText === undefined ? DEFAULT_MOUNT_TTL_MINUTES : Number(ttlText);
        if (!Number.isSafeInteger(ttl) || ttl < 1)
          throw usage('--ttl must be a whole number of minutes >= 1');
        const m = await mountSnapshot(api, snapshotId, ttl);
        if (m.warning !== undefined) process.stderr.write(`tidemark: warning: ${m.warning}\n`);
        if (asJson) {
          json({
            mountId: m.mount.mountId,
            snapshotId,
            uri: m.uri,
            readOnly: m.readOnly,
            databases: m.mount.databases,
            expiresAt: m.mount.expiresAt.toISOString(),
            documents: m.documents,
          });
        } else {
          out(
            `mounted ${snapshotId} as ${m.mount.mountId} until ${m.mount.expiresAt.toISOString()} (${m.documents} documents)\n` +
              Object.entries(m.mount.databases)
                .map(([from, to]) => `  ${from} -> ${to}\n`)
                .join('') +
              `${m.uri}\n`,
          );
        }
        return 0;
      }
      case 'unmount': {
        const parsed = parseCommand(args, {}, usage);
        const mountId = onlyArgument(parsed, sub, 'mount id', usage);
        if (!(await unmountSnapshot(mountId))) {
          process.stderr.write(`tidemark: no mount ${mountId}\n`);
          return 1;
        }
        out(`${mountId}: unmounted (its databases dropped)\n`);
        return 0;
      }
      case 'mounts': {
        parseCommand(args, {}, usage);
        const mounts = await listMounts();
        if (asJson) json(mounts);
        else
          out(
            mounts.length === 0
              ? 'no mounts\n'
              : mounts
                  .map(
                    (m) =>
                      `${m.mountId}  ${m.snapshotId}  until ${m.expiresAt.toISOString()}  ${Object.values(m.databases).join(', ')}\n`,
                  )
                  .join(''),
          );
        return 0;
      }
      default:
        throw usage(`unknown snapshot command ${sub === undefined ? '(none)' : JSON.stringify(sub)}`);
    }
  } catch (err) {
    if (err instanceof JobApiError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
