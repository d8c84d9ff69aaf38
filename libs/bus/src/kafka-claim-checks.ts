import type { Producer } from 'kafkajs';
import { publish } from './kafka';
import { sliceStoredOf } from './slice-mapping';
import type { RecordTopic } from './topics';
import type { ClaimCheckPublisher } from '@tidemark/ingest';
import type { SliceClaimCheck } from '@tidemark/slices';

/**
 * Publishes claim checks on `tidemark.slices.stored` (key: job id). `publish` resolves once all in-sync replicas
 * acknowledged the record and throws `KafkaOperationError` with the classified `retriable` flag otherwise.
 */
export class KafkaClaimChecks implements ClaimCheckPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.slices.SliceStored'>,
  ) {}

  async publishStored(claim: SliceClaimCheck): Promise<void> {
    const record = sliceStoredOf(claim);
    await publish(this.producer, this.topic, record);
  }
}
