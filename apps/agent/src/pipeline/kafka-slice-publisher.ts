/**
 * The agent's `SlicePublisher` over an idempotent kafkajs producer: slices as `SliceProduced` (initial-sync and
 * catalog slices to `tidemark.slices.initial` keyed by job/namespace or job, oplog slices to
 * `tidemark.slices.oplog` keyed by job), phases as `PhaseChanged` (stage `agent`), alerts as `AlertRaised`.
 * Every method resolves once the broker acknowledged (acks=all).
 */
import type { Producer } from 'kafkajs';
import type { SlicePublisher } from '@tidemark/capture';
import {
  alertRaisedRecord,
  phaseChangedOf,
  publish,
  sliceProducedFromMeta,
  type Topics,
} from '@tidemark/bus';
import type { Alert, PhaseReport, SliceMeta } from '@tidemark/domain';

export class KafkaSlicePublisher implements SlicePublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'phases' | 'alerts'>,
  ) {}

  async publishSlice(meta: SliceMeta, payload: Buffer): Promise<void> {
    const record = sliceProducedFromMeta(meta, payload, new Date());
    const topic = meta.kind === 'oplog' ? this.topics.slicesOplog : this.topics.slicesInitial;
    await publish(this.producer, topic, record);
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    await publish(this.producer, this.topics.phases, phaseChangedOf(report));
  }

  async publishAlert(alert: Alert): Promise<void> {
    const record = alertRaisedRecord(alert);
    await publish(this.producer, this.topics.alerts, record);
  }
}
