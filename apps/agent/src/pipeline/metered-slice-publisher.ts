/**
 * The agent's `SlicePublisher` with metrics: each slice Kafka acknowledged is counted as `published` (kind,
 * documents or oplog entries, compressed bytes); phases and alerts pass through unchanged.
 */
import type { SlicePublisher } from '@tidemark/capture';
import type { Alert, PhaseReport, SliceMeta, StageMetrics } from '@tidemark/domain';

export class MeteredSlicePublisher implements SlicePublisher {
  constructor(
    private readonly publisher: SlicePublisher,
    private readonly metrics: Pick<StageMetrics, 'slices'>,
  ) {}

  async publishSlice(meta: SliceMeta, payload: Buffer): Promise<void> {
    await this.publisher.publishSlice(meta, payload);
    this.metrics.slices(meta.kind, 'published', 1, meta.docCount, meta.compressedBytes);
  }

  publishPhase(report: PhaseReport): Promise<void> {
    return this.publisher.publishPhase(report);
  }

  publishAlert(alert: Alert): Promise<void> {
    return this.publisher.publishAlert(alert);
  }
}
