/**
 * The agent's `SlicePublisher` over an idempotent kafkajs producer: slices as `SliceProduced` (initial-sync and
 * catalog slices to `tidemark.slices.initial` keyed by job/namespace or job, oplog slices to
 * `tidemark.slices.oplog` keyed by job), phases as `PhaseChanged` (stage `agent`), alerts as `AlertRaised`.
 * Every method resolves once the broker acknowledged (acks=all).
 */
import type { Producer } from 'kafkajs';
import type { SlicePublisher } from '@tidemark/capture';
import type { Alert, PhaseReport, SliceMeta } from '@tidemark/domain';
import { alertRaisedRecord } from './alert-mapping';
import { publish } from './kafka';
import { KafkaPhaseReporter } from './phase-mapping';
import { sliceProducedFromMeta } from './slice-mapping';
import type { Topics } from './topics';

export class KafkaSlicePublisher implements SlicePublisher {
  private readonly phases: KafkaPhaseReporter;

  constructor(
    private readonly producer: Producer,
    private readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'phases' | 'alerts'>,
  ) {
    this.phases = new KafkaPhaseReporter(producer, topics.phases);
  }

  async publishSlice(meta: SliceMeta, payload: Buffer): Promise<void> {
    const record = sliceProducedFromMeta(meta, payload, new Date());
    const topic = meta.kind === 'oplog' ? this.topics.slicesOplog : this.topics.slicesInitial;
    await publish(this.producer, topic, record);
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    await this.phases.report(report);
  }

  async publishAlert(alert: Alert): Promise<void> {
    const record = alertRaisedRecord(alert);
    await publish(this.producer, this.topics.alerts, record);
  }
}
