/**
 * `tidemark job wait ID --state S --timeout SECONDS [--lag-zero]`: polls the job's status until it is in state S
 * (and, with `--lag-zero`, its head has applied everything the source had when the wait began), printing progress
 * on stderr while it waits.
 *
 * `--lag-zero` first reads the source's newest oplog timestamp directly (the job's source URI, with the credentials
 * the environment binds to its hosts, by the agent's rule: `sourceCredentialsFromEnv` of `@tidemark/mongo`; a source
 * none of them is for is refused before connecting), then waits until
 * `appliedOpTime >= ` that timestamp. Fails at once, with the reason, when the job is blocked or requires a resync.
 */
import {
  compareOpTime,
  formatOpTime,
  isJobState,
  parseOpTime,
  type JobState,
  type OpTime,
} from '@tidemark/domain';
import type { JobStatus } from '@tidemark/jobs';
import { ENV, readInfraState } from '@tidemark/config';
import { connectMongo, sourceCredentialsFromEnv } from '@tidemark/mongo';
import { latestOplogTs } from '@tidemark/source';
import type { JobApiClient } from './job-api-client';
import { progressBar } from './job-format';

export interface WaitOptions {
  readonly state: JobState;
  readonly timeoutMs: number;
  readonly lagZero: boolean;
  readonly intervalMs: number;
  /** Where progress lines go (stderr). */
  readonly progress: (line: string) => void;
}

export interface WaitResult {
  readonly ok: boolean;
  /** What to tell the user: why it succeeded or failed. */
  readonly message: string;
  readonly status: JobStatus | undefined;
}

/** The source's newest oplog position, read with the driver (`local.oplog.rs`, sort `$natural: -1`). */
export async function sourceNewestOpTime(
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpTime | undefined> {
  const ownSource = env[ENV.sourceUri] || readInfraState(env)?.source.uri;
  const login = sourceCredentialsFromEnv(env, ownSource).forUri(uri); // throws for a source it has no entry for
  const client = await connectMongo(uri, {
    appName: 'tidemark-cli',
    ...(login === undefined ? {} : { login }),
  });
  try {
    return await latestOplogTs(client);
  } finally {
    await client.close();
  }
}

function summary(s: JobStatus, target: OpTime | undefined): string {
  const lag = s.lag.seconds === null ? '-' : `${s.lag.seconds} s`;
  const goal = target === undefined ? '' : ` -> ${formatOpTime(target)}`;
  return (
    `job ${s.id}: ${s.state}, ${s.phase ?? '-'} ${progressBar(s.progress.percent)}, ` +
    `applied ${s.appliedOpTime ?? '-'}${goal}, lag ${lag}`
  );
}

export async function waitForJob(api: JobApiClient, id: string, options: WaitOptions): Promise<WaitResult> {
  if (!isJobState(options.state)) throw new Error(`not a job state: ${String(options.state)}`);
  const deadline = Date.now() + options.timeoutMs;
  let target: OpTime | undefined;
  if (options.lagZero) {
    const job = await api.get(id);
    target = await sourceNewestOpTime(job.source.uri);
    options.progress(
      target === undefined
        ? `job ${id}: the source's oplog is empty; waiting for state ${options.state} only`
        : `job ${id}: the source's newest oplog entry is ${formatOpTime(target)}; waiting until it is applied`,
    );
  }
  let last = '';
  let status: JobStatus | undefined;
  for (;;) {
    status = await api.status(id);
    if (status.blocked !== null) {
      return {
        ok: false,
        status,
        message: `job ${id} is blocked: ${status.blocked.code}: ${status.blocked.message}`,
      };
    }
    const resync = status.alerts.find((a) => a.code === 'RESYNC_REQUIRED');
    if (resync !== undefined) {
      return {
        ok: false,
        status,
        message: `job ${id} requires a resync (tidemark job resync ${id}): ${resync.message}`,
      };
    }
    const applied = status.appliedOpTime === null ? undefined : parseOpTime(status.appliedOpTime);
    const caughtUp = target === undefined || (applied !== undefined && compareOpTime(applied, target) >= 0);
    if (status.state === options.state && caughtUp) {
      const lag =
        target === undefined ? '' : `, applied ${status.appliedOpTime} >= source ${formatOpTime(target)}`;
      return { ok: true, status, message: `job ${id} is ${status.state}${lag}` };
    }
    const line = summary(status, target);
    if (line !== last) options.progress(line);
    last = line;
    if (Date.now() >= deadline) {
      const seconds = Math.round(options.timeoutMs / 1000);
      return {
        ok: false,
        status,
        message:
          `timed out after ${seconds} s waiting for job ${id} to be ${options.state}` +
          `${target === undefined ? '' : ` with ${formatOpTime(target)} applied`}; now: ${line}`,
      };
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(options.intervalMs, Math.max(0, deadline - Date.now()))),
    );
  }
}
