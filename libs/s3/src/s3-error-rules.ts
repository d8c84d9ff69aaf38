/**
 * Which S3 failures a retry can fix: one reviewed table (kafkajs `protocol/error.js` style).
 *
 * Rows are checked in order: error names (S3 error codes and SDK/network error names), then the HTTP status.
 * Throttling, 5xx and connection failures are retriable; every other 4xx is fatal, and so is anything
 * unknown (including programming errors).
 */

/** One row: a match on the error's `name` (S3 error `Code`, or Node's `code` for network errors) or its HTTP status. */
export type S3ErrorRule =
  | { kind: 'name'; name: string; retriable: boolean; reason: string }
  | { kind: 'status'; min: number; max: number; retriable: boolean; reason: string };

const name = (n: string, retriable: boolean, reason: string): S3ErrorRule => ({
  kind: 'name',
  name: n,
  retriable,
  reason,
});
const status = (min: number, max: number, retriable: boolean, reason: string): S3ErrorRule => ({
  kind: 'status',
  min,
  max,
  retriable,
  reason,
});

export const S3_ERROR_RULES: readonly S3ErrorRule[] = Object.freeze([
  // Throttling (S3 answers 503 SlowDown; other services 400/429 with these codes).
  name('SlowDown', true, 'throttled'),
  name('Throttling', true, 'throttled'),
  name('ThrottlingException', true, 'throttled'),
  name('TooManyRequestsException', true, 'throttled'),
  name('RequestLimitExceeded', true, 'throttled'),
  name('RequestThrottled', true, 'throttled'),
  name('RequestThrottledException', true, 'throttled'),
  // Transient server-side or transport conditions.
  name('RequestTimeout', true, 'request timed out'),
  name('RequestTimeoutException', true, 'request timed out'),
  name('TimeoutError', true, 'request timed out'),
  name('InternalError', true, 'server error'),
  name('ServiceUnavailable', true, 'service unavailable'),
  name('ECONNREFUSED', true, 'connection refused'),
  name('ECONNRESET', true, 'connection reset'),
  name('EPIPE', true, 'connection closed'),
  name('ETIMEDOUT', true, 'connection timed out'),
  name('EAI_AGAIN', true, 'DNS lookup failed temporarily'),
  // Named fatal errors (also covered by the 4xx row; named here for a clearer reason).
  name('NoSuchBucket', false, 'bucket does not exist'),
  name('NoSuchKey', false, 'object does not exist'),
  name('AccessDenied', false, 'access denied'),
  name('InvalidAccessKeyId', false, 'unknown access key'),
  name('SignatureDoesNotMatch', false, 'wrong secret key'),
  name('BadDigest', false, 'checksum mismatch'),
  name('InvalidRequest', false, 'invalid request'),
  // By status when the name is not listed.
  status(429, 429, true, 'throttled (HTTP 429)'),
  status(500, 599, true, 'server error (HTTP 5xx)'),
  status(400, 499, false, 'client error (HTTP 4xx)'),
]);
