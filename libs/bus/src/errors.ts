/**
 * Classification of kafkajs errors, as data (reviewed here and nowhere else).
 *
 * Rule: a kafkajs error is looked up first by protocol error type (for `KafkaJSProtocolError` and subclasses),
 * then by error name. A protocol type not listed keeps the flag kafkajs gives it (kafkajs' own protocol table,
 * `src/protocol/error.js`). Anything else, and anything that is not a kafkajs error, is fatal. Retries exhausted
 * inside kafkajs (`KafkaJSNumberOfRetriesExceeded`) are classified by the error that was being retried.
 */
import { TidemarkError } from '@tidemark/domain';
import { KafkaOperationError } from './bus-errors';

/** One row of a classification table. */
export interface KafkaErrorRule {
  readonly retriable: boolean;
  /** Why, for the reviewer and the error message. */
  readonly reason: string;
}

/** Broker error codes by kafkajs protocol type where Tidemark decides explicitly (overrides or documents kafkajs). */
export const KAFKA_PROTOCOL_ERROR_RULES: Readonly<Record<string, KafkaErrorRule>> = Object.freeze({
  MESSAGE_TOO_LARGE: {
    retriable: false,
    reason: 'message exceeds the topic max.message.bytes: fix the topic or the slice size',
  },
  RECORD_LIST_TOO_LARGE: { retriable: false, reason: 'batch exceeds the broker limit' },
  INVALID_RECORD: { retriable: false, reason: 'the broker rejected the record' },
  CORRUPT_MESSAGE: { retriable: true, reason: 'CRC mismatch in transit; resending fixes it' },
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: true, reason: 'metadata not yet propagated after topic creation' },
  NOT_LEADER_FOR_PARTITION: { retriable: true, reason: 'leadership moved; metadata refresh fixes it' },
  LEADER_NOT_AVAILABLE: { retriable: true, reason: 'leader election in progress' },
  REQUEST_TIMED_OUT: { retriable: true, reason: 'broker did not answer in time' },
  NETWORK_EXCEPTION: { retriable: true, reason: 'connection lost' },
  NOT_ENOUGH_REPLICAS: { retriable: true, reason: 'too few in-sync replicas for acks=all, for now' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: {
    retriable: true,
    reason: 'written but not replicated enough; idempotent resend is safe',
  },
  GROUP_COORDINATOR_NOT_AVAILABLE: { retriable: true, reason: 'coordinator moving' },
  NOT_COORDINATOR_FOR_GROUP: { retriable: true, reason: 'coordinator moved' },
  REBALANCE_IN_PROGRESS: { retriable: true, reason: 'consumer group rebalancing' },
  ILLEGAL_GENERATION: {
    retriable: true,
    reason:
      "the group rebalanced past this member's generation; the partition's new owner reads the message again",
  },
  UNKNOWN_MEMBER_ID: {
    retriable: true,
    reason: "the group rebalanced without this member; the partition's new owner reads the message again",
  },
  OUT_OF_ORDER_SEQUENCE_NUMBER: {
    retriable: false,
    reason: 'idempotent producer state lost: recreate the producer',
  },
  INVALID_PRODUCER_EPOCH: { retriable: false, reason: 'producer fenced by a newer instance' },
  UNKNOWN_PRODUCER_ID: {
    retriable: false,
    reason: 'producer state expired on the broker: recreate the producer',
  },
  TOPIC_AUTHORIZATION_FAILED: { retriable: false, reason: 'not authorized for the topic' },
  GROUP_AUTHORIZATION_FAILED: { retriable: false, reason: 'not authorized for the consumer group' },
  CLUSTER_AUTHORIZATION_FAILED: { retriable: false, reason: 'not authorized for the cluster operation' },
  SASL_AUTHENTICATION_FAILED: { retriable: false, reason: 'authentication failed' },
  TOPIC_ALREADY_EXISTS: { retriable: false, reason: 'topic exists (ensureTopics treats this as success)' },
  INVALID_CONFIG: { retriable: false, reason: 'the broker rejected a topic config' },
  POLICY_VIOLATION: { retriable: false, reason: 'the broker policy rejected the request' },
  INVALID_REPLICATION_FACTOR: { retriable: false, reason: 'replication factor larger than the broker count' },
  OFFSET_OUT_OF_RANGE: {
    retriable: false,
    reason: 'the committed offset is gone (retention passed): data may be lost, needs a decision',
  },
  UNSUPPORTED_VERSION: { retriable: false, reason: 'broker does not support the request version' },
});

/** kafkajs error classes by `name`. */
export const KAFKA_ERROR_NAME_RULES: Readonly<Record<string, KafkaErrorRule>> = Object.freeze({
  KafkaJSConnectionError: { retriable: true, reason: 'broker unreachable or connection dropped' },
  KafkaJSConnectionClosedError: { retriable: true, reason: 'connection closed by the broker' },
  KafkaJSRequestTimeoutError: { retriable: true, reason: 'request timed out' },
  KafkaJSBrokerNotFound: { retriable: true, reason: 'broker not in metadata yet' },
  KafkaJSMetadataNotLoaded: { retriable: true, reason: 'metadata not loaded yet' },
  KafkaJSTopicMetadataNotLoaded: { retriable: true, reason: 'topic metadata not loaded yet' },
  KafkaJSStaleTopicMetadataAssignment: { retriable: true, reason: 'assignment raced a metadata change' },
  KafkaJSNoBrokerAvailableError: { retriable: true, reason: 'no broker reachable' },
  KafkaJSGroupCoordinatorNotFound: { retriable: true, reason: 'group coordinator not found yet' },
  KafkaJSLockTimeout: { retriable: true, reason: 'client-internal lock timed out under load' },
  KafkaJSOffsetOutOfRange: { retriable: false, reason: 'the committed offset is gone (retention passed)' },
  KafkaJSSASLAuthenticationError: { retriable: false, reason: 'authentication failed' },
  KafkaJSServerDoesNotSupportApiKey: { retriable: false, reason: 'broker too old for the request' },
  KafkaJSPartialMessageError: { retriable: false, reason: 'message larger than the fetch size' },
  KafkaJSUnsupportedMagicByteInMessageSet: { retriable: false, reason: 'unsupported message format' },
  KafkaJSInvalidVarIntError: { retriable: false, reason: 'corrupt response' },
  KafkaJSInvalidLongError: { retriable: false, reason: 'corrupt response' },
  KafkaJSInvariantViolation: { retriable: false, reason: 'kafkajs bug' },
  KafkaJSNotImplemented: { retriable: false, reason: 'feature not implemented by kafkajs' },
  KafkaJSTimeout: { retriable: false, reason: 'operation timed out' },
  KafkaJSNonRetriableError: { retriable: false, reason: 'kafkajs marks it non-retriable' },
});

/** The classification of one error. */
export interface KafkaErrorClass extends KafkaErrorRule {
  /** `name` or `name:TYPE` of the deciding error, e.g. `KafkaJSProtocolError:MESSAGE_TOO_LARGE`. */
  readonly key: string;
}

interface KafkaLikeError {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

const MAX_DEPTH = 5;

/** Classifies any thrown value (see the module comment for the rule). */
export function classifyKafkaError(err: unknown, depth = 0): KafkaErrorClass {
  if (typeof err !== 'object' || err === null || !(err instanceof Error)) {
    return { key: typeof err, retriable: false, reason: 'not an Error' };
  }
  const e = err as KafkaLikeError & Error;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (name === 'KafkaJSNumberOfRetriesExceeded' && depth < MAX_DEPTH) {
    const inner = e.cause ?? e.originalError;
    if (inner !== undefined && inner !== err) {
      const c = classifyKafkaError(inner, depth + 1);
      return { ...c, key: `${name}<${c.key}>`, reason: `kafkajs gave up retrying: ${c.reason}` };
    }
  }
  const parts = (err as { errors?: unknown }).errors;
  if (name === 'KafkaJSAggregateError' && Array.isArray(parts) && depth < MAX_DEPTH) {
    const inner = parts.map((x: unknown) => classifyKafkaError(x, depth + 1));
    const retriable = inner.length > 0 && inner.every((c) => c.retriable);
    return {
      key: `${name}[${inner.map((c) => c.key).join(',')}]`,
      retriable,
      reason: 'retriable only if every part is',
    };
  }
  if (typeof e.type === 'string') {
    const rule = KAFKA_PROTOCOL_ERROR_RULES[e.type];
    if (rule !== undefined) return { key: `${name}:${e.type}`, ...rule };
    if (typeof e.retriable === 'boolean' && name.startsWith('KafkaJS')) {
      return { key: `${name}:${e.type}`, retriable: e.retriable, reason: 'kafkajs protocol table' };
    }
  }
  const rule = KAFKA_ERROR_NAME_RULES[name];
  if (rule !== undefined) return { key: name, ...rule };
  return { key: name, retriable: false, reason: 'unclassified error: fatal' };
}

/**
 * Wraps a kafkajs failure in a {@link KafkaOperationError} with the classified `retriable` flag. A
 * {@link TidemarkError} passes through unchanged (it is already classified).
 */
export function toKafkaOperationError(err: unknown, operation: string, topic?: string): TidemarkError {
  if (err instanceof TidemarkError) return err;
  const c = classifyKafkaError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new KafkaOperationError({
    operation,
    kafkaError: c.key,
    retriable: c.retriable,
    topic,
    reason: `${message} (${c.reason})`,
    cause: err,
  });
}
