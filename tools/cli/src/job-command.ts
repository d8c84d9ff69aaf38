/**
 * `tidemark job ...`: backup jobs through job-state's REST API (`TIDEMARK_API_URL`, default
 * http://127.0.0.1:7100). See `JOB_HELP`. Exit codes: 0 done, 1 failed (the API's reason, a timeout, a blocked
 * job), 2 wrong usage.
 */
import { resolve as resolvePath } from 'node:path';
import {
  isJobState,
  parseDurationMinutes,
  parseReadLimit,
  parseRetention,
  type JobState,
} from '@tidemark/domain';
import { once, parseCommand, type ParsedCommand } from './args';
import { JobApiClient, JobApiError, type CreateJobRequest } from './job-api-client';
import { formatJobLine, formatJobList, formatRetained, formatStatus } from './job-format';
import { waitForJob } from './job-wait';

export const JOB_HELP = `  tidemark job create --project P --source URI [--include NS]... [--exclude NS]...
                    [--store blockstore|s3|filesystem] [--store-path DIR] [--snapshot-interval 6h]
                    [--retention base=2d,daily=7,weekly=4,monthly=12] [--encryption-key-file F]
                    [--read-limit 5MB/s] [--json]
                                   define a backup job (inactive); NS is "db" or "db.collection";
                                   the URI has no credentials (the agent holds them per source, docs/services.md);
                                   snapshots every --snapshot-interval (m, h, d, w) into the store (default
                                   blockstore; filesystem needs --store-path, as the snapshotter sees it);
                                   --read-limit caps how fast the agent reads the source (kB/s, MB/s, GB/s,
                                   decimal units; default uncapped)
  tidemark job set ID --read-limit 5MB/s|none [--json]
                                   change the job's read limit in any state; a running sync follows it
                                   within one poll of the agent (TIDEMARK_AGENT_SETTINGS_POLL_MS, 5 s)
  tidemark job start|stop|restart|terminate ID [--json]
                                   drive the job's state machine (terminate deletes its retained backups
                                   and prints what it deleted)
  tidemark job retained ID [--json]
                                   what the job retains, so what terminate would delete: snapshots, stored
                                   slices, head databases
  tidemark job resync ID [--reason TEXT] [--json]
                                   a new initial sync for the job
  tidemark job list [--json]       every job with its state and phase
  tidemark job status ID [--json]  state, phase and progress, applied position, lag, head location and namespaces
  tidemark job wait ID [--state active] --timeout SECONDS [--lag-zero] [--interval SECONDS]
                                   wait for the state (and with --lag-zero until the head has applied the
                                   source's newest oplog entry); fails on timeout or when the job is blocked
  (job commands talk to job-state's API at TIDEMARK_API_URL, default http://127.0.0.1:7100)
`;

type Usage = (message: string) => Error;

function seconds(text: string, name: string, usage: Usage): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw usage(`${name} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  return value * 1000;
}

/** `--read-limit` once, parsed (`null` for `none`); undefined when not given. */
function readLimitOption(parsed: ParsedCommand, usage: Usage): number | null | undefined {
  const text = once(parsed, 'read-limit', usage);
  if (text === undefined) return undefined;
  try {
    return parseReadLimit(text, '--read-limit');
  } catch (err) {
    throw usage((err as Error).message);
  }
}

/** The job id: exactly one positional argument left. */
function jobId(parsed: ParsedCommand, sub: string, usage: Usage): string {
  if (parsed.unknown.length > 0) throw usage(`job ${sub}: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length !== 1) throw usage(`job ${sub} needs exactly one job id`);
  return parsed.positionals[0]!;
}

/**
 * `--store`, `--store-path`, `--snapshot-interval`, `--retention`, `--encryption-key-file` as the API's `schedule`
 * and `snapshotStore` (only what was given; the API fills in the defaults and checks the values). Paths are made
 * absolute against the working directory.
 */
function snapshotSettings(
  parsed: ParsedCommand,
  usage: Usage,
): Pick<CreateJobRequest, 'schedule' | 'snapshotStore'> {
  const text = (name: string) => once(parsed, name, usage);
  const [kind, storePath, interval, retention, keyFile] = [
    'store',
    'store-path',
    'snapshot-interval',
    'retention',
    'encryption-key-file',
  ].map(text);
  const parsedOr = <T>(value: string | undefined, parse: (v: string) => T): T | undefined => {
    try {
      return value === undefined ? undefined : parse(value);
    } catch (err) {
      throw usage((err as Error).message);
    }
  };
  const intervalMinutes = parsedOr(interval, (v) => parseDurationMinutes(v, '--snapshot-interval'));
  const retentionValue = parsedOr(retention, (v) => parseRetention(v));
  const schedule =
    intervalMinutes === undefined && retentionValue === undefined
      ? undefined
      : {
          ...(intervalMinutes === undefined ? {} : { intervalMinutes }),
          ...(retentionValue === undefined ? {} : { retention: retentionValue }),
        };
  const snapshotStore =
    kind === undefined && storePath === undefined && keyFile === undefined
      ? undefined
      : {
          kind: kind ?? 'blockstore',
          ...(storePath === undefined ? {} : { path: resolvePath(storePath) }),
          ...(keyFile === undefined ? {} : { encryptionKeyFile: resolvePath(keyFile) }),
        };
  return {
    ...(schedule === undefined ? {} : { schedule }),
    ...(snapshotStore === undefined ? {} : { snapshotStore }),
  };
}

const out = (text: string) => process.stdout.write(text);
const json = (value: unknown) => out(`${JSON.stringify(value, null, 2)}\n`);

export async function runJobCommand(argv: readonly string[], usage: Usage): Promise<number> {
  // `--json` may stand anywhere, even before the subcommand; the subcommand parses what is left.
  const top = parseCommand(argv, { json: 'boolean' }, usage);
  const asJson = top.flag('json');
  const [sub, ...args] = top.rest;
  const api = new JobApiClient();
  try {
    switch (sub) {
      case 'create': {
        const parsed = parseCommand(
          args,
          {
            project: 'string',
            source: 'string',
            include: 'string',
            exclude: 'string',
            store: 'string',
            'store-path': 'string',
            'snapshot-interval': 'string',
            retention: 'string',
            'encryption-key-file': 'string',
            'read-limit': 'string',
          },
          usage,
        );
        const project = once(parsed, 'project', usage);
        const readLimit = readLimitOption(parsed, usage);
        const source = once(parsed, 'source', usage);
        const include = [...parsed.values('include')];
        const exclude = [...parsed.values('exclude')];
        if (project === undefined || source === undefined)
          throw usage('job create needs --project and --source');
        if (parsed.rest.length > 0) throw usage(`job create: unexpected ${parsed.rest.join(' ')}`);
        const job = await api.create({
          project,
          source: { uri: source },
          include,
          exclude,
          ...snapshotSettings(parsed, usage),
          ...(readLimit === undefined || readLimit === null ? {} : { readLimit }),
        });
        if (asJson) json(job);
        else out(`${formatJobLine(job)}start it with: tidemark job start ${job.id}\n`);
        return 0;
      }
      case 'set': {
        const parsed = parseCommand(args, { 'read-limit': 'string' }, usage);
        const readLimit = readLimitOption(parsed, usage);
        const id = jobId(parsed, sub, usage);
        if (readLimit === undefined) throw usage('job set needs a setting to change: --read-limit');
        const job = await api.changeSettings(id, { readLimit });
        if (asJson) json(job);
        else out(formatJobLine(job));
        return 0;
      }
      case 'start':
      case 'stop':
      case 'restart':
      case 'terminate':
      case 'resync': {
        const parsed = parseCommand(args, sub === 'resync' ? { reason: 'string' } : {}, usage);
        const reason = once(parsed, 'reason', usage);
        const id = jobId(parsed, sub, usage);
        const job = await api.act(id, sub, reason === undefined ? {} : { reason });
        if (asJson) json(job);
        else {
          out(formatJobLine(job));
          if (job.deleting !== undefined) out(formatRetained(job.deleting, 'is deleting'));
        }
        return 0;
      }
      case 'retained': {
        const retained = await api.retained(jobId(parseCommand(args, {}, usage), sub, usage));
        if (asJson) json(retained);
        else out(formatRetained(retained));
        return 0;
      }
      case 'list': {
        const parsed = parseCommand(args, {}, usage);
        if (parsed.rest.length > 0) throw usage(`job list: unexpected ${parsed.rest.join(' ')}`);
        const jobs = await api.list();
        if (asJson) json(jobs);
        else out(formatJobList(jobs));
        return 0;
      }
      case 'status': {
        const status = await api.status(jobId(parseCommand(args, {}, usage), sub, usage));
        if (asJson) json(status);
        else out(formatStatus(status));
        return 0;
      }
      case 'wait': {
        const parsed = parseCommand(
          args,
          { state: 'string', timeout: 'string', interval: 'string', 'lag-zero': 'boolean' },
          usage,
        );
        const state = once(parsed, 'state', usage) ?? 'active';
        const timeout = once(parsed, 'timeout', usage);
        const interval = once(parsed, 'interval', usage);
        const lagZero = parsed.flag('lag-zero');
        if (!isJobState(state))
          throw usage(
            `--state must be inactive, initial-sync, active or stopped, got ${JSON.stringify(state)}`,
          );
        if (timeout === undefined) throw usage('job wait needs --timeout SECONDS');
        const id = jobId(parsed, sub, usage);
        const result = await waitForJob(api, id, {
          state: state as JobState,
          timeoutMs: seconds(timeout, '--timeout', usage),
          intervalMs: interval === undefined ? 1_000 : seconds(interval, '--interval', usage),
          lagZero,
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        if (asJson) json({ ok: result.ok, message: result.message, status: result.status ?? null });
        else
          (result.ok ? process.stdout : process.stderr).write(
            `${result.ok ? '' : 'tidemark: '}${result.message}\n`,
          );
        return result.ok ? 0 : 1;
      }
      default:
        throw usage(`unknown job command ${JSON.stringify(sub)}; see tidemark --help`);
    }
  } catch (err) {
    if (err instanceof JobApiError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
