/**
 * The agent's `SlicePublisher` (`@tidemark/capture`) over an idempotent kafkajs producer: slices as `SliceProduced`
 * (initial-sync and catalog slices to `tidemark.slices.initial` keyed by job/namespace or job, oplog slices to
 * `tidemark.slices.oplog` keyed by job), phases as `PhaseChanged` (stage `agent`, through `KafkaPhaseReporter`),
 * alerts as `AlertRaised` (through `KafkaAlertPublisher`). Every method resolves once the broker acknowledged (acks=all).
 */
import type { Producer } from 'kafkajs';
import type { SlicePublisher } from '@tidemark/capture';
import type { Alert, PhaseReport, SliceMeta } from '@tidemark/domain';
import { KafkaAlertPublisher } from './alert-mapping';
import { publish } from './kafka';
import { KafkaPhaseReporter } from './phase-mapping';
import { sliceProducedFromMeta } from './slice-mapping';
import type { Topics } from './topics';

export class KafkaSlicePublisher implements SlicePublisher {
  private readonly phases: KafkaPhaseReporter;
  private readonly alerts: KafkaAlertPublisher;

  constructor(
    private readonly producer: Producer,
    private readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'phases' | 'alerts'>,
  ) {
    this.phases = new KafkaPhaseReporter(producer, topics.phases);
    this.alerts = new KafkaAlertPublisher(producer, topics.alerts);
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
    await this.alerts.raise(alert);
  }
}
