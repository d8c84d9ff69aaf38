/**
 * The explicit commit of the events consumer (`run: { autoCommit: false }`): the committed offset is the
 * next one to read, so it is the handled message's offset + 1 (Int64 arithmetic on the string, as bigint).
 */
import type { KafkaContext } from '@nestjs/microservices';

export async function commitAfter(context: KafkaContext): Promise<void> {
  const offset = (BigInt(context.getMessage().offset) + 1n).toString();
  await context
    .getConsumer()
    .commitOffsets([{ topic: context.getTopic(), partition: context.getPartition(), offset }]);
}
