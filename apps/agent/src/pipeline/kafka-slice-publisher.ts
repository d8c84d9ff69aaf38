/**
 * The agent's `SlicePublisher` over an idempotent kafkajs producer: slices as `SliceProduced` (initial-sync and
 * catalog slices to `tidemark.slices.initial` keyed by job/namespace or job, oplog slices to
 * `tidemark.slices.oplog` keyed by job), phases as `PhaseChanged` (stage `agent`), alerts as `AlertRaised`.
 * Every method resolves once the broker acknowledged (acks=all).
 */
import type { Producer } from 'kafkajs';
import type { PhaseReport, ProgressReport, SlicePublisher } from '@tidemark/agent-core';
import {
  alertRaisedRecord,
  opTimeToAvroLong,
  phaseToAvro,
  publish,
  sliceProducedFromMeta,
  type PhaseProgress,
  type Topics,
} from '@tidemark/bus';
import type { Alert, SliceMeta } from '@tidemark/domain';

const big = (n: number | undefined): bigint | null => (n === undefined ? null : BigInt(n));

function progressToAvro(p: ProgressReport): PhaseProgress {
  return {
    docsCopied: BigInt(p.docsCopied),
    docsTotal: big(p.docsTotal),
    bytesCopied: BigInt(p.bytesCopied),
    bytesTotal: big(p.bytesTotal),
    namespaces: p.namespaces.map((n) => ({
      namespace: n.namespace,
      docsCopied: BigInt(n.docsCopied),
      docsTotal: big(n.docsTotal),
      bytesCopied: BigInt(n.bytesCopied),
      bytesTotal: big(n.bytesTotal),
    })),
  };
}

export class KafkaSlicePublisher implements SlicePublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'phases' | 'alerts'>,
  ) {}

  async publishSlice(meta: SliceMeta, payload: Buffer): Promise<void> {
    const record = sliceProducedFromMeta(meta, payload, new Date());
    const topic = meta.kind === 'oplog' ? this.topics.slicesOplog : this.topics.slicesInitial;
    await publish(this.producer, topic, topic.keyOf(record), record);
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    const record = {
      jobId: report.jobId,
      syncId: report.syncId,
      phase: phaseToAvro(report.phase),
      stage: 'agent',
      progress: progressToAvro(report.progress),
      appliedTs: null,
      sourceTs: report.sourceTs === undefined ? null : opTimeToAvroLong(report.sourceTs),
      at: new Date(),
      details: { ...report.details },
    };
    await publish(this.producer, this.topics.phases, this.topics.phases.keyOf(record), record);
  }

  async publishAlert(alert: Alert): Promise<void> {
    const record = alertRaisedRecord(alert);
    await publish(this.producer, this.topics.alerts, this.topics.alerts.keyOf(record), record);
  }
}
