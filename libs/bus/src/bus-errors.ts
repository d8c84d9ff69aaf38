/**
 * Errors specific to the bus adapter. All are {@link TidemarkError}s; only {@link KafkaOperationError} can be
 * retriable, and only when the kafkajs classification table (errors.ts) says so.
 */
import { SchemaMismatchError, TidemarkError } from '@tidemark/domain';

/** The schemas folder or a schema in it breaks the rules (layout, names, compatibility). A deployment error. */
export class SchemaDefinitionError extends TidemarkError {
  override readonly name: string = 'SchemaDefinitionError';
  /** The file (or label) the problem was found in. */
  readonly origin: string;

  constructor(origin: string, detail: string, options: { cause?: unknown } = {}) {
    super(`${origin}: ${detail}`, { retriable: false, cause: options.cause });
    this.origin = origin;
  }
}

/** Why bytes could not be decoded as Avro single-object encoding. */
export type DecodeFailure =
  /** Fewer than the 10 header bytes. */
  | 'truncated-header'
  /** The first two bytes are not C3 01. */
  | 'bad-marker'
  /** No known schema version (current or history) has this fingerprint. */
  | 'unknown-fingerprint'
  /** The message is a different record than the caller expected. */
  | 'unexpected-record'
  /** The body does not decode under the writer schema (truncated, trailing bytes, corrupt). */
  | 'bad-body';

/**
 * A message could not be decoded. A {@link SchemaMismatchError}, so callers that dead-letter schema problems
 * handle it without knowing this subclass; `failure` says exactly what was wrong. Not retriable.
 */
export class SingleObjectDecodeError extends SchemaMismatchError {
  override readonly name: string = 'SingleObjectDecodeError';
  readonly failure: DecodeFailure;

  constructor(
    failure: DecodeFailure,
    details: { fingerprint?: string; schemaName?: string; source?: string; detail: string; cause?: unknown },
  ) {
    super({
      fingerprint: details.fingerprint,
      schemaName: details.schemaName ?? (details.fingerprint === undefined ? '<unknown>' : undefined),
      source: details.source,
      detail: `${failure}: ${details.detail}`,
      cause: details.cause,
    } as ConstructorParameters<typeof SchemaMismatchError>[0]);
    this.failure = failure;
  }
}

/** A topic declaration or the topic configuration in Kafka is not what Tidemark needs. Not retriable. */
export class TopicConfigError extends TidemarkError {
  override readonly name: string = 'TopicConfigError';
  readonly topic: string | undefined;

  constructor(topic: string | undefined, detail: string, options: { cause?: unknown } = {}) {
    super(topic === undefined ? detail : `topic ${topic}: ${detail}`, {
      retriable: false,
      cause: options.cause,
    });
    this.topic = topic;
  }
}

/**
 * A Kafka operation failed. `retriable` comes from the classification table in errors.ts; `kafkaError` is the
 * kafkajs error name (and protocol error type, when there is one).
 */
export class KafkaOperationError extends TidemarkError {
  override readonly name: string = 'KafkaOperationError';
  /** What was being done, e.g. `publish to tidemark.phases`. */
  readonly operation: string;
  /** kafkajs error name, e.g. `KafkaJSProtocolError:MESSAGE_TOO_LARGE`. */
  readonly kafkaError: string;
  readonly topic: string | undefined;

  constructor(details: {
    operation: string;
    kafkaError: string;
    retriable: boolean;
    topic?: string;
    reason: string;
    cause?: unknown;
  }) {
    super(
      `${details.operation} failed (${details.kafkaError}, ${details.retriable ? 'retriable' : 'fatal'}): ${details.reason}`,
      {
        retriable: details.retriable,
        cause: details.cause,
      },
    );
    this.operation = details.operation;
    this.kafkaError = details.kafkaError;
    this.topic = details.topic;
  }
}
