/**
 * Which MongoDB failures a retry can fix: one reviewed table (kafkajs `protocol/error.js` style).
 *
 * Rows are checked in order: TLS causes first (no retry fixes a certificate), then error labels (the server's
 * and driver's own verdict), then server error codes, then driver error classes. An error no row matches is classified by its `cause`;
 * when nothing matches at all the error is fatal, as is every programming error (`TypeError`, ...).
 */
import {
  MongoAPIError,
  MongoClientClosedError,
  MongoCompatibilityError,
  MongoInvalidArgumentError,
  MongoMissingCredentialsError,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
} from 'mongodb';

/** One row of the table. `reason` is a short phrase; the classifier appends the error's own message. */
export type MongoErrorRule =
  | { kind: 'label'; label: string; retriable: boolean; reason: string }
  | { kind: 'tls-cause'; code: string; retriable: boolean; reason: string }
  | { kind: 'code'; code: number; codeName: string; retriable: boolean; reason: string }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | { kind: 'class'; type: abstract new (...args: any[]) => Error; retriable: boolean; reason: string };

const label = (l: string, retriable: boolean, reason: string): MongoErrorRule => ({
  kind: 'label',
  label: l,
  retriable,
  reason,
});
const tls = (code: string): MongoErrorRule => ({
  kind: 'tls-cause',
  code,
  retriable: false,
  reason: 'TLS configuration rejected by the peer',
});
const code = (c: number, codeName: string, retriable: boolean, reason: string): MongoErrorRule => ({
  kind: 'code',
  code: c,
  codeName,
  retriable,
  reason,
});
const cls = (
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type: abstract new (...args: any[]) => Error,
  retriable: boolean,
  reason: string,
): MongoErrorRule => ({ kind: 'class', type, retriable, reason });

export const MONGO_ERROR_RULES: readonly MongoErrorRule[] = Object.freeze([
  // TLS failures surface as network errors but no retry fixes a bad certificate.
  tls('CERT_HAS_EXPIRED'),
  tls('DEPTH_ZERO_SELF_SIGNED_CERT'),
  tls('SELF_SIGNED_CERT_IN_CHAIN'),
  tls('UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
  tls('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'),
  tls('ERR_TLS_CERT_ALTNAME_INVALID'),

  // Labels: the server or driver says a retry is safe.
  label('RetryableWriteError', true, 'retryable write error'),
  label('TransientTransactionError', true, 'transient transaction error'),
  label('UnknownTransactionCommitResult', true, 'transaction commit result unknown; commit again'),
  label('ResetPool', true, 'connection pool was reset'),

  // Server codes: replica-set state changes, shutdowns and timeouts pass.
  code(6, 'HostUnreachable', true, 'host unreachable'),
  code(7, 'HostNotFound', true, 'host not found'),
  code(24, 'LockTimeout', true, 'lock timeout'),
  code(43, 'CursorNotFound', true, 'cursor expired on the server; reopen it'),
  code(50, 'MaxTimeMSExpired', true, 'operation exceeded its time limit'),
  code(64, 'WriteConcernTimeout', true, 'write concern not satisfied in time'),
  code(89, 'NetworkTimeout', true, 'network timeout'),
  code(91, 'ShutdownInProgress', true, 'server shutting down'),
  code(112, 'WriteConflict', true, 'write conflict'),
  code(133, 'FailedToSatisfyReadPreference', true, 'no member matches the read preference'),
  code(134, 'ReadConcernMajorityNotAvailableYet', true, 'majority read concern not available yet'),
  code(189, 'PrimarySteppedDown', true, 'primary stepped down'),
  code(262, 'ExceededTimeLimit', true, 'exceeded time limit'),
  code(391, 'ReauthenticationRequired', true, 're-authentication required'),
  code(9001, 'SocketException', true, 'socket exception'),
  code(10107, 'NotWritablePrimary', true, 'not writable primary'),
  code(11600, 'InterruptedAtShutdown', true, 'interrupted at shutdown'),
  code(11602, 'InterruptedDueToReplStateChange', true, 'interrupted by a replica-set state change'),
  code(13435, 'NotPrimaryNoSecondaryOk', true, 'not primary and secondaryOk not set'),
  code(13436, 'NotPrimaryOrSecondary', true, 'node is recovering'),
  // Server codes that a retry cannot fix.
  code(11, 'UserNotFound', false, 'authentication failed: user not found'),
  code(13, 'Unauthorized', false, 'not authorized'),
  code(18, 'AuthenticationFailed', false, 'authentication failed'),
  code(2, 'BadValue', false, 'invalid value'),
  code(9, 'FailedToParse', false, 'request failed to parse'),
  code(14, 'TypeMismatch', false, 'type mismatch'),
  code(121, 'DocumentValidationFailure', false, 'document failed validation'),
  code(10334, 'BSONObjectTooLarge', false, 'document too large'),
  code(11000, 'DuplicateKey', false, 'duplicate key'),

  // Driver classes, most specific first (instanceof also matches subclasses).
  cls(MongoStalePrimaryError, true, 'stale primary'),
  cls(MongoOperationTimeoutError, true, 'operation timed out'),
  cls(MongoNetworkError, true, 'network error'),
  cls(MongoServerSelectionError, true, 'no server available'),
  cls(MongoTopologyClosedError, false, 'client already closed'),
  cls(MongoClientClosedError, false, 'client already closed'),
  cls(MongoParseError, false, 'invalid connection string'),
  cls(MongoMissingCredentialsError, false, 'credentials missing'),
  cls(MongoInvalidArgumentError, false, 'invalid argument'),
  cls(MongoCompatibilityError, false, 'server version not supported for this operation'),
  cls(MongoAPIError, false, 'driver API misuse'),
]);
