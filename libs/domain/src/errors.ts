/**
 * Tidemark's error types: every named error of the domain, in one list. Their base class `TidemarkError` and the
 * classification rule (`isRetriable`, `describeError`) are in `tidemark-error.ts` and exported from here too.
 *
 * Named subclasses carry their context in fields (job id, slice id, oplog timestamp, ...), so callers branch on the
 * type and read the fields instead of parsing messages.
 */
import type { OpTime } from './op-time';
import { TidemarkError, type CauseOption } from './tidemark-error';

export * from './tidemark-error';
// Each guard's error is declared beside the rule it guards (so those modules need not import this one); listed
// here so this file names every error of the domain.
export { IllegalTransitionError } from './job-state';
export { PhaseRegressionError } from './phase';
export { InvalidOpTimeError } from './op-time';

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

/**
 * A kind of collection Tidemark does not back up: a `view` (its definition lives in `<db>.system.views`) or a
 * `timeseries` collection (a view over `<db>.system.buckets.<name>`, where its data lives).
 */
export type UnsupportedCollectionType = 'view' | 'timeseries';

/** One namespace a job selects that Tidemark refuses to back up. */
export interface UnsupportedNamespace {
  /** `db.collection`: the view or the time-series collection (not its buckets). */
  readonly ns: string;
  readonly type: UnsupportedCollectionType;
}

/**
 * A job selects a view or a time-series collection, which Tidemark does not back up (README, "Views and
 * time-series collections"). Raised by the agent when the initial scan lists one, and by the applier when an oplog
 * entry creates or changes one, so neither is dropped silently: the initial sync fails, or the job's apply stops,
 * with this message in the job's alerts. Not retriable: a job's filters cannot change, so the user creates a job
 * that excludes the namespaces.
 */
export class UnsupportedNamespaceError extends TidemarkError {
  override readonly name: string = 'UnsupportedNamespaceError';
  readonly namespaces: readonly UnsupportedNamespace[];

  constructor(details: { namespaces: readonly UnsupportedNamespace[] } & CauseOption) {
    const listed = details.namespaces
      .map(({ ns, type }) => `${ns} (${type === 'view' ? 'a view' : 'a time-series collection'})`)
      .join(', ');
    const names = details.namespaces.map(({ ns }) => JSON.stringify(ns)).join(', ');
    super(
      `Tidemark does not back up views or time-series collections, and the job selects ${listed}; a job whose ` +
        `filters exclude ${details.namespaces.length === 1 ? 'it' : 'them'} (exclude: [${names}]) backs up the rest`,
      { retriable: false, cause: details.cause },
    );
    this.namespaces = details.namespaces;
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
