/**
 * Errors of the jobs feature. With the domain's `IllegalTransitionError` they are what the REST API turns into
 * status codes: not found 404, invalid input 400, illegal transition or concurrent change 409, retriable 503.
 */
import { TidemarkError, type CauseOption } from '@tidemark/domain';

/** No job has this id. Not retriable. */
export class JobNotFoundError extends TidemarkError {
  override readonly name: string = 'JobNotFoundError';
  readonly jobId: string;

  constructor(jobId: string, options: CauseOption = {}) {
    super(`job ${jobId} not found`, { retriable: false, cause: options.cause });
    this.jobId = jobId;
  }
}

/** A request to create or change a job is invalid; `problems` lists every reason as a sentence. Not retriable. */
export class JobValidationError extends TidemarkError {
  override readonly name: string = 'JobValidationError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: CauseOption = {}) {
    super(`invalid job: ${problems.join('; ')}`, { retriable: false, cause: options.cause });
    this.problems = problems;
  }
}

/**
 * The job kept changing under a compare-and-set write (another request or replica changed it each time). The
 * request may be repeated; it is reported as a conflict because the caller should look at the job first.
 */
export class JobConflictError extends TidemarkError {
  override readonly name: string = 'JobConflictError';
  readonly jobId: string;

  constructor(jobId: string, attempts: number) {
    super(`job ${jobId} changed concurrently ${attempts} times; look at it and retry`, { retriable: true });
    this.jobId = jobId;
  }
}

/**
 * The job's state changed and was stored, but the commands it owes the pipeline (or the deletion of retained
 * backups) could not be completed yet. They stay in the job's outbox and are retried in the background and before
 * the job's next action. Retriable.
 */
export class JobEffectsPendingError extends TidemarkError {
  override readonly name: string = 'JobEffectsPendingError';
  readonly jobId: string;

  constructor(jobId: string, state: string, cause: unknown) {
    super(
      `job ${jobId} is now ${state}, but sending its commands or deleting its retained backups failed; ` +
        `they are retried automatically`,
      { retriable: true, cause },
    );
    this.jobId = jobId;
  }
}

/** No snapshot has this id (or it is not a snapshot id). Not retriable; the API answers 404. */
export class SnapshotNotFoundError extends TidemarkError {
  override readonly name: string = 'SnapshotNotFoundError';
  constructor(readonly snapshotId: string) {
    super(`snapshot ${snapshotId} not found`, { retriable: false });
  }
}

/** A snapshot request the job's state (or the snapshot's) does not allow; the API answers 409 with the reason. */
export class SnapshotNotAllowedError extends TidemarkError {
  override readonly name: string = 'SnapshotNotAllowedError';
  constructor(
    readonly jobId: string,
    readonly state: string,
    reason = `job ${jobId} is ${state}: only an active job gets new snapshots`,
  ) {
    super(reason, { retriable: false });
  }
}
