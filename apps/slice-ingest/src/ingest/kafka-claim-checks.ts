import type { Producer } from 'kafkajs';
import { publish, type RecordTopic } from '@tidemark/bus';
import type { ClaimCheckPublisher, SliceClaimCheck } from '@tidemark/ingest';
import { sliceStoredRecord } from './bus-records';

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
    const record = sliceStoredRecord(claim);
    await publish(this.producer, this.topic, record);
  }
}
