/**
 * Tidemark's error types.
 *
 * Every error a Tidemark component raises on purpose is a {@link TidemarkError}. It always says whether a retry
 * can fix it (`retriable`, required, no default) and keeps the error it wraps in `cause`. Named subclasses carry
 * their context in fields (job id, slice id, oplog timestamp, ...), so callers branch on the type and read the
 * fields instead of parsing messages.
 *
 * Classification rule: only a `TidemarkError` constructed with `retriable: true` is retriable. Anything else,
 * including errors of unknown origin, is fatal ({@link isRetriable}). Adapters classify their driver's errors in
 * one table and wrap them in a `TidemarkError` with the right flag.
 */
import type { JobAction, JobState } from './job-state';
import type { OpTime } from './op-time';
import type { Phase } from './phase';

/** Options every {@link TidemarkError} takes. `retriable` is required on purpose: there is no safe default. */
export interface TidemarkErrorOptions {
  /** True only when repeating the same operation later can succeed (network blip, throttling, leader change). */
  retriable: boolean;
  /** The error this one wraps, if any. */
  cause?: unknown;
}

/** Options of the named subclasses, whose retriability is fixed by the class. */
export interface CauseOption {
  cause?: unknown;
}

/** Base class of every error Tidemark raises on purpose. */
export class TidemarkError extends Error {
  override readonly name: string = 'TidemarkError';
  /** Whether a retry of the same operation can succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: TidemarkErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/** Formats an oplog position as `<t>:<i>` (kept local so this module needs no runtime import). */
function ts(value: OpTime): string {
  return `${value.t}:${value.i}`;
}

/**
 * The source oplog no longer holds the position the job must resume from: continuing would silently skip
 * entries, so the job must go through a new initial sync. Not retriable: waiting does not bring entries back.
 */
export class OplogGapError extends TidemarkError {
  override readonly name: string = 'OplogGapError';
  readonly jobId: string;
  /** The position the job needed (its last stored oplog timestamp). */
  readonly requestedTs: OpTime;
  /** The oldest entry the source oplog still holds. */
  readonly oldestTs: OpTime;

  constructor(details: { jobId: string; requestedTs: OpTime; oldestTs: OpTime } & CauseOption) {
    super(
      `job ${details.jobId}: backup requires a resync: the source oplog starts at ${ts(details.oldestTs)}, ` +
        `after the job's position ${ts(details.requestedTs)}`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.requestedTs = details.requestedTs;
    this.oldestTs = details.oldestTs;
  }
}

/** A slice's payload does not hash to the checksum in its metadata. The slice is never trusted; not retriable. */
export class SliceChecksumError extends TidemarkError {
  override readonly name: string = 'SliceChecksumError';
  readonly sliceId: string;
  /** SHA-256 hex from the slice metadata. */
  readonly expected: string;
  /** SHA-256 hex of the payload actually received. */
  readonly actual: string;
  readonly jobId: string | undefined;

  constructor(details: { sliceId: string; expected: string; actual: string; jobId?: string } & CauseOption) {
    super(
      `slice ${details.sliceId}${details.jobId === undefined ? '' : ` of job ${details.jobId}`}: checksum ` +
        `mismatch: expected sha256 ${details.expected}, got ${details.actual}`,
      { retriable: false, cause: details.cause },
    );
    this.sliceId = details.sliceId;
    this.expected = details.expected;
    this.actual = details.actual;
    this.jobId = details.jobId;
  }
}

/** A slice breaks a validation rule (size bounds, timestamps, missing fields). Not retriable. */
export class SliceValidationError extends TidemarkError {
  override readonly name: string = 'SliceValidationError';
  /** Undefined when the metadata is too broken to name the slice. */
  readonly sliceId: string | undefined;
  readonly reason: string;

  constructor(details: { sliceId?: string; reason: string } & CauseOption) {
    super(`slice ${details.sliceId ?? '<unknown>'} is invalid: ${details.reason}`, {
      retriable: false,
      cause: details.cause,
    });
    this.sliceId = details.sliceId;
    this.reason = details.reason;
  }
}

/** The job state machine's guard: `action` is not allowed in state `from`. Not retriable. */
export class IllegalTransitionError extends TidemarkError {
  override readonly name: string = 'IllegalTransitionError';
  readonly jobId: string | undefined;
  readonly from: JobState;
  readonly action: JobAction;

  constructor(details: { jobId?: string; from: JobState; action: JobAction } & CauseOption) {
    super(
      `${details.jobId === undefined ? 'job' : `job ${details.jobId}`}: action "${details.action}" is not ` +
        `allowed in state "${details.from}"`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.from = details.from;
    this.action = details.action;
  }
}

/** An initial-sync phase report would move the phase backwards within one sync attempt. Not retriable. */
export class PhaseRegressionError extends TidemarkError {
  override readonly name: string = 'PhaseRegressionError';
  readonly jobId: string | undefined;
  readonly syncId: string | undefined;
  readonly from: Phase;
  readonly to: Phase;

  constructor(details: { jobId?: string; syncId?: string; from: Phase; to: Phase } & CauseOption) {
    const who = [
      details.jobId === undefined ? undefined : `job ${details.jobId}`,
      details.syncId === undefined ? undefined : `sync ${details.syncId}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(
      `${who === '' ? 'initial sync' : who}: phase cannot move backwards from "${details.from}" to "${details.to}"`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.syncId = details.syncId;
    this.from = details.from;
    this.to = details.to;
  }
}

/**
 * A message was written with a schema this reader does not know or cannot read. Not retriable: the message goes
 * to the dead-letter topic. Names the schema by fingerprint (Avro single-object encoding), by name, or both.
 */
export class SchemaMismatchError extends TidemarkError {
  override readonly name: string = 'SchemaMismatchError';
  /** Hex fingerprint of the writer's schema, when known. */
  readonly fingerprint: string | undefined;
  /** Full name of the expected or writer's schema (e.g. `tidemark.slices.SliceStored`), when known. */
  readonly schemaName: string | undefined;
  /** Where the message came from (topic, file), when known. */
  readonly source: string | undefined;

  constructor(
    details: ({ fingerprint: string; schemaName?: string } | { fingerprint?: string; schemaName: string }) & {
      source?: string;
      detail?: string;
    } & CauseOption,
  ) {
    const names = [
      details.schemaName === undefined ? undefined : `schema ${details.schemaName}`,
      details.fingerprint === undefined ? undefined : `fingerprint ${details.fingerprint}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(
      `schema mismatch (${names})${details.source === undefined ? '' : ` in ${details.source}`}` +
        `${details.detail === undefined ? '' : `: ${details.detail}`}`,
      { retriable: false, cause: details.cause },
    );
    this.fingerprint = details.fingerprint;
    this.schemaName = details.schemaName;
    this.source = details.source;
  }
}

/**
 * This process no longer holds a lease it was working under (it expired, or another holder took it). The work
 * done under the lease must stop at once; repeating the same operation would act without the lease, so it is not
 * retriable. The owner of the loop may try to acquire the lease again from scratch.
 */
export class LeaseLostError extends TidemarkError {
  override readonly name: string = 'LeaseLostError';
  /** What the lease protects (e.g. `snapshot:<jobId>`, `groom:<store>`). */
  readonly lease: string;
  /** Who this process was when it held the lease. */
  readonly holder: string;
  /** The new holder, when known. */
  readonly currentHolder: string | undefined;

  constructor(details: { lease: string; holder: string; currentHolder?: string } & CauseOption) {
    super(
      `lease ${details.lease} lost by ${details.holder}` +
        `${details.currentHolder === undefined ? '' : ` (now held by ${details.currentHolder})`}`,
      { retriable: false, cause: details.cause },
    );
    this.lease = details.lease;
    this.holder = details.holder;
    this.currentHolder = details.currentHolder;
  }
}

/**
 * An oplog `c` entry whose command the applier does not know. Never skipped silently: the job's pipeline stops.
 * Not retriable.
 */
export class UnknownOplogCommandError extends TidemarkError {
  override readonly name: string = 'UnknownOplogCommandError';
  /** The command name (the first field of the entry's `o`). */
  readonly command: string;
  readonly ts: OpTime;
  /** The entry's `ns` (e.g. `db.$cmd`), when known. */
  readonly namespace: string | undefined;

  constructor(details: { command: string; ts: OpTime; namespace?: string } & CauseOption) {
    super(
      `unknown oplog command "${details.command}" at ${ts(details.ts)}` +
        `${details.namespace === undefined ? '' : ` on ${details.namespace}`}`,
      { retriable: false, cause: details.cause },
    );
    this.command = details.command;
    this.ts = details.ts;
    this.namespace = details.namespace;
  }
}

/** Text that should be an oplog position `<t>:<i>` is not one, or a number is out of range. Not retriable. */
export class InvalidOpTimeError extends TidemarkError {
  override readonly name: string = 'InvalidOpTimeError';
  /** The rejected input, as text. */
  readonly input: string;

  constructor(input: string, reason: string, options: CauseOption = {}) {
    super(`invalid oplog timestamp "${input}": ${reason}`, { retriable: false, cause: options.cause });
    this.input = input;
  }
}

/**
 * A stored record carries a format version this build does not read (docs/format.md, "Stored records"): it was
 * written by a newer (or unknown) Tidemark, so nothing in it can be trusted to mean what this build thinks. The
 * reader stops here, before interpreting any other field, and never skips or rewrites the record. Not retriable:
 * rereading the same record gives the same answer; running a build that reads the version does not.
 */
export class UnknownFormatVersionError extends TidemarkError {
  override readonly name: string = 'UnknownFormatVersionError';
  /** What the record is (e.g. `oplog-store slice`, `head record`). */
  readonly recordKind: string;
  /** The version field's value as found (a number, or whatever else was stored there). */
  readonly found: unknown;
  /** The versions this build reads. */
  readonly known: readonly number[];
  /** Where the record lives (e.g. `tidemark_meta.heads _id "j1/j1-s1"`), when known. */
  readonly where: string | undefined;

  constructor(
    details: { recordKind: string; found: unknown; known: readonly number[]; where?: string } & CauseOption,
  ) {
    super(
      `${details.recordKind}${details.where === undefined ? '' : ` at ${details.where}`}: format version ` +
        `${showVersion(details.found)} is unknown to this build, which reads ` +
        `${details.known.length === 1 ? 'version' : 'versions'} ${details.known.join(', ')}; refusing to read it (a newer Tidemark wrote it?)`,
      { retriable: false, cause: details.cause },
    );
    this.recordKind = details.recordKind;
    this.found = details.found;
    this.known = [...details.known];
    this.where = details.where;
  }
}

/** A found version value as text: numbers and bigints as they are, anything else as JSON-ish with its type. */
function showVersion(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  try {
    return `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
  } catch {
    return `<${typeof value}>`;
  }
}

/**
 * True only for a {@link TidemarkError} constructed with `retriable: true`. Unknown errors (driver errors nobody
 * classified, programming errors, non-Error values) are fatal.
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof TidemarkError && err.retriable;
}

/** How deep {@link describeError} follows `cause` before it stops. */
const MAX_CAUSE_DEPTH = 8;

function describeOne(err: unknown): string {
  if (err instanceof Error) {
    const message = err.message.replace(/\s+/g, ' ').trim();
    return message === '' ? err.name : `${err.name}: ${message}`;
  }
  if (typeof err === 'string') return err.replace(/\s+/g, ' ').trim();
  try {
    return `non-error value: ${String(err)}`;
  } catch {
    return 'non-error value';
  }
}

/**
 * One line saying why something failed, with the cause chain: `A: msg <- caused by B: msg <- caused by C: msg`.
 * Whitespace in messages collapses to single spaces; cycles and very deep chains are cut off with `...`.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== undefined && current !== null) {
    if (seen.has(current) || parts.length >= MAX_CAUSE_DEPTH) {
      parts.push('...');
      break;
    }
    seen.add(current);
    parts.push(describeOne(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  if (parts.length === 0) return describeOne(err);
  return parts.join(' <- caused by ');
}
