/**
 * Errors of reading the source deployment. Every driver failure leaves this library as a {@link SourceReadError}
 * whose `retriable` flag comes from the caller's {@link SourceErrorClassifier}: the agent passes
 * `classifyMongoError` of `@tidemark/mongo` (network blips and replica-set elections are retriable;
 * authentication, bad arguments and anything unknown are not). This library does not import that adapter.
 */
import { describeError, TidemarkError } from '@tidemark/domain';

/** Reading the source failed while doing `operation` (e.g. `scan shop.orders`, `tail local.oplog.rs`). */
export class SourceReadError extends TidemarkError {
  override readonly name: string = 'SourceReadError';
  /** What was being read. */
  readonly operation: string;

  constructor(operation: string, reason: string, options: { retriable: boolean; cause?: unknown }) {
    super(`source: ${operation} failed: ${reason}`, options);
    this.operation = operation;
  }
}

/** A raw document from the source is not well-formed BSON, or an oplog entry lacks `ts` / `op`. Not retriable. */
export class MalformedSourceDocumentError extends TidemarkError {
  override readonly name: string = 'MalformedSourceDocumentError';

  constructor(reason: string) {
    super(`source document is malformed: ${reason}`, { retriable: false });
  }
}

/** Says whether a driver failure can be fixed by trying again (the shape of `classifyMongoError`). */
export type SourceErrorClassifier = (err: unknown) => {
  readonly retriable: boolean;
  readonly reason: string;
};

/**
 * The classifier used when the caller gives none: retriable only when the error itself says `retriable: true`.
 * Driver errors carry no such flag, so every driver failure is fatal: pass `classifyMongoError` to resume after
 * network failures.
 */
export const flaggedOnly: SourceErrorClassifier = (err) => ({
  retriable: typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true,
  reason: describeError(err),
});

/**
 * Wraps a driver failure in a {@link SourceReadError} classified by `classify`; Tidemark errors and abort reasons
 * pass through unchanged, so callers can still branch on their type.
 */
export function toSourceError(
  err: unknown,
  operation: string,
  classify: SourceErrorClassifier = flaggedOnly,
): unknown {
  if (err instanceof TidemarkError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') return err;
  const verdict = classify(err);
  return new SourceReadError(operation, verdict.reason, { retriable: verdict.retriable, cause: err });
}
