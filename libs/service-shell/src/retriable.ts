/**
 * One answer to "will trying again help?" for the pipeline stages, combining the classification tables of
 * each adapter: Tidemark's own errors by their `retriable` flag, MongoDB errors by @tidemark/mongo's table,
 * Kafka errors by @tidemark/bus's table. Anything none of them calls retriable is fatal (Debezium's rule).
 */
import { classifyKafkaError } from '@tidemark/bus';
import { isRetriable } from '@tidemark/domain';
import { classifyMongoError } from '@tidemark/mongo';

export function isRetriableError(err: unknown): boolean {
  if (isRetriable(err)) return true;
  if (classifyMongoError(err).retriable) return true;
  return classifyKafkaError(err).retriable;
}
