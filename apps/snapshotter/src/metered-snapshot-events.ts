/**
 * The snapshotter's snapshot events, counted in its `/metrics` as they are published (`ServiceMetrics
 * .snapshotPublished`): only an event that reached Kafka is counted, so the metrics and the topic agree.
 */
import type { SnapshotEvent, SnapshotEventPublisher } from '@tidemark/domain';
import type { ServiceMetrics } from '@tidemark/service-shell';

export function meteredSnapshotEvents(
  inner: SnapshotEventPublisher,
  metrics: Pick<ServiceMetrics, 'snapshotPublished'>,
): SnapshotEventPublisher {
  return {
    async publish(event: SnapshotEvent): Promise<void> {
      await inner.publish(event);
      metrics.snapshotPublished(event);
    },
  };
}
