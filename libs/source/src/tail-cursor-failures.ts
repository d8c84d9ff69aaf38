/**
 * What the oplog tail does when its cursor fails: one reviewed table of failures that only need the cursor reopened
 * (from the last position, gap check included), then the caller's classifier (`classifyMongoError`) for
 * network failures (reopen after a backoff). Everything else is fatal for the tail.
 */
import { MongoServerError } from 'mongodb';
import { toSourceError, type SourceErrorClassifier } from './source-error';

/** How long to wait before reopening. */
export type ReopenDelay = 'none' | 'short' | 'poll' | 'backoff' | 'stable';

/** Why a tail session ended without an error for the caller. */
export interface SessionEnd {
  readonly reason: string;
  readonly delay: ReopenDelay;
  readonly error?: unknown;
  /** For `stable`: how long until the entry that ended the session is older than the stability horizon. */
  readonly waitMs?: number;
}

interface ReopenRule {
  readonly code: number;
  readonly message?: RegExp;
  readonly delay: ReopenDelay;
  readonly reason: string;
}

/** Server errors after which reopening the cursor is the whole fix. */
export const REOPENABLE_CURSOR_ERRORS: readonly ReopenRule[] = Object.freeze([
  {
    code: 1,
    message: /iterator is read to the end or closed/,
    delay: 'poll',
    reason: 'FerretDB ends a tailable cursor whose query matched nothing yet',
  },
  { code: 43, delay: 'short', reason: 'CursorNotFound: the server dropped the cursor' },
  {
    code: 136,
    delay: 'none',
    reason:
      'CappedPositionLost: the oplog rolled over the cursor position (the reopen re-runs the gap check)',
  },
  { code: 175, delay: 'short', reason: 'QueryPlanKilled' },
  { code: 237, delay: 'short', reason: 'CursorKilled' },
]);

/**
 * The session end for a cursor failure: reopen (table row or retriable driver error), or throws the failure as a
 * non-retriable `SourceReadError`.
 */
export function cursorFailureOutcome(err: unknown, classify: SourceErrorClassifier): SessionEnd {
  if (err instanceof MongoServerError) {
    const rule = REOPENABLE_CURSOR_ERRORS.find(
      (r) => r.code === err.code && (r.message === undefined || r.message.test(err.message)),
    );
    if (rule !== undefined) return { reason: rule.reason, delay: rule.delay, error: err };
  }
  const verdict = classify(err);
  if (verdict.retriable) return { reason: verdict.reason, delay: 'backoff', error: err };
  throw toSourceError(err, 'tail local.oplog.rs', classify);
}
