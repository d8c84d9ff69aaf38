/**
 * Errors raised while applying oplog entries.
 *
 * Every error the applier lets out says what was being done: {@link OplogApplyError} wraps any failure with the
 * entry's timestamp, op type, namespace and, for ops nested in `applyOps`, their position. Its `retriable` flag is
 * the cause's (a retriable target failure such as a network error stays retriable; everything else is fatal).
 * `UnknownOplogCommandError` (from `@tidemark/domain`) already names the command, timestamp and namespace, so it
 * passes through unwrapped and callers can branch on its type.
 */
import { TidemarkError, formatOpTime, isRetriable } from '@tidemark/domain';
import type { CauseOption, OpTime } from '@tidemark/domain';

/** What the applier was doing when something failed. */
export interface ApplyContext {
  /** Timestamp of the top-level entry (ops nested in `applyOps` have none of their own). */
  readonly ts: OpTime;
  /** Op type of the entry or nested op (`i`, `u`, `d`, `c`, `n`, ...). */
  readonly op: string;
  /** Namespace as the source wrote it (`db.collection`, or `db.$cmd` for commands). */
  readonly ns: string;
  /** For `c` entries: the command name (the first field of `o`). */
  readonly command?: string;
  /** For ops nested in `applyOps`: their position, e.g. `applyOps[3]` or `applyOps[0].applyOps[2]`. */
  readonly path?: string;
}

export function describeContext(context: ApplyContext): string {
  const what = context.command === undefined ? `op "${context.op}"` : `command "${context.command}"`;
  const where = context.path === undefined ? '' : ` (${context.path})`;
  return `${what} on ${context.ns === '' ? '<no namespace>' : context.ns} at ${formatOpTime(context.ts)}${where}`;
}

/** Applying one oplog entry failed. Retriable exactly when its cause is. */
export class OplogApplyError extends TidemarkError {
  override readonly name: string = 'OplogApplyError';
  readonly context: ApplyContext;

  constructor(context: ApplyContext, reason: string, options: { retriable?: boolean } & CauseOption = {}) {
    super(`applying ${describeContext(context)} failed: ${reason}`, {
      retriable: options.retriable ?? isRetriable(options.cause),
      cause: options.cause,
    });
    this.context = context;
  }
}

/**
 * An oplog entry, update or diff is not in MongoDB's documented format (missing or mistyped field, unknown op type,
 * malformed `$v:2` diff, unknown format version). Not retriable: the same bytes fail the same way.
 */
export class MalformedOplogEntryError extends TidemarkError {
  override readonly name: string = 'MalformedOplogEntryError';
  readonly reason: string;
  /** Where in the entry the problem is (e.g. `o2._id`, `o.diff.sa.u3`), when known. */
  readonly field: string | undefined;

  constructor(reason: string, options: { field?: string } & CauseOption = {}) {
    super(`malformed oplog entry${options.field === undefined ? '' : ` at ${options.field}`}: ${reason}`, {
      retriable: false,
      cause: options.cause,
    });
    this.reason = reason;
    this.field = options.field;
  }
}

/**
 * A `$v:2` diff cannot be written as a `$set`/`$unset` modifier (a field name holds a `.`, starts with `$` or is
 * empty, so no dotted path can address it). Apply it as a post-image instead. Not retriable.
 */
export class DiffNotExpressibleError extends TidemarkError {
  override readonly name: string = 'DiffNotExpressibleError';
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`$v:2 diff cannot be translated to a modifier at "${path}": ${reason}`, { retriable: false });
    this.path = path;
  }
}

/**
 * Buffered transaction operations exceeded the configured bound (count or bytes). Not retriable: the same
 * transaction overflows again; raise the bound (`transactionBuffer.maxOps` / `maxBytes`) and restart the job.
 */
export class TransactionBufferOverflowError extends TidemarkError {
  override readonly name: string = 'TransactionBufferOverflowError';
  readonly limit: 'maxOps' | 'maxBytes';
  readonly max: number;
  readonly attempted: number;

  constructor(details: { limit: 'maxOps' | 'maxBytes'; max: number; attempted: number; txn: string }) {
    super(
      `transaction buffer overflow: buffering transaction ${details.txn} would hold ${details.attempted} ` +
        `${details.limit === 'maxOps' ? 'operations' : 'bytes'}, above ${details.limit} = ${details.max}; ` +
        `raise the bound and restart the job`,
      { retriable: false },
    );
    this.limit = details.limit;
    this.max = details.max;
    this.attempted = details.attempted;
  }
}

/**
 * The apply target refused an operation for a reason a retry cannot fix (a path that cannot be created, a
 * conflicting index, a rename onto an existing collection without `dropTarget`, ...). Targets raise it for their
 * own semantic failures; the Mongo-backed target classifies driver errors instead.
 */
export class ApplyTargetError extends TidemarkError {
  override readonly name: string = 'ApplyTargetError';
  /** A short code naming the failure, after MongoDB's error names (`PathNotViable`, `NamespaceExists`, ...). */
  readonly code: string;

  constructor(code: string, message: string, options: CauseOption = {}) {
    super(`${code}: ${message}`, { retriable: false, cause: options.cause });
    this.code = code;
  }
}

/**
 * A well-formed entry that cannot be replayed faithfully (a command the table refuses, a rename from a namespace the
 * job does not back up, a transaction whose earlier entries were not seen). Stopping is the only way not to leave
 * the target silently different from the source. Not retriable.
 */
export class UnreplayableEntryError extends TidemarkError {
  override readonly name: string = 'UnreplayableEntryError';
  readonly reason: string;

  constructor(reason: string, options: CauseOption = {}) {
    super(`oplog entry cannot be replayed: ${reason}`, { retriable: false, cause: options.cause });
    this.reason = reason;
  }
}
