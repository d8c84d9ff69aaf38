/**
 * job-state's loop over the topics it folds, `tidemark.phases`, `tidemark.alerts` and `tidemark.snapshots`: the bus's
 * `CommittingConsumer` (the one consumer loop, plain kafkajs, group `tidemark-job-state`), so the order reads top
 * to bottom here and in the loop:
 * 1. decode the message as its topic's record and map it to the domain (`PhaseReport`, `Alert`); a message that
 *    cannot be decoded (or names a phase the domain does not know) goes to `<topic>.dlq` with the reason and is
 *    committed once the dead letter is acknowledged, so one bad message cannot stop the job views;
 * 2. fold it into its job (`JobService.foldPhase` / `foldAlert`) and wait for the majority-acknowledged write and
 *    the effects the fold causes (e.g. deleting an earlier sync's head once a resync completes);
 * 3. commit the offset. A failed fold commits nothing: a retriable failure is retried after a backoff, a fatal one
 *    halts the partition until a restart (folding is idempotent, so redelivery is harmless).
 *
 * After a stage's alert or a snapshot event is folded, the job's alerts are evaluated at once (`AlertService`), so
 * an alert opens or closes within seconds rather than at the next periodic round. That evaluation derives from
 * what is already durable and the periodic round repeats it, so its failure is logged (`alerts-evaluate-failed`)
 * and does not hold back the commit. job-state's own lifecycle events (`lifecycle` set) are folded only.
 */
import type { Kafka, Producer } from 'kafkajs';
import {
  alertOfRecord,
  CommittingConsumer,
  phaseReportOf,
  recordDecoder,
  snapshotEventOf,
  type ConsumerLog,
  type MessageDecoder,
  type RecordTopic,
} from '@tidemark/bus';
import { describeError, type Alert, type PhaseReport, type SnapshotEvent } from '@tidemark/domain';
import type { AlertService, JobService } from '@tidemark/jobs';
import { isRetriableError, type ServiceMetrics } from '@tidemark/service-shell';

/** The topics job-state folds, resolved (prefix applied). */
export interface EventTopics {
  readonly phases: RecordTopic<'tidemark.phases.PhaseChanged'>;
  readonly alerts: RecordTopic<'tidemark.alerts.AlertRaised'>;
  readonly snapshots: RecordTopic<'tidemark.snapshots.SnapshotEvent'>;
}

/** One message of either topic, mapped to the domain. */
export type JobEvent =
  | { readonly kind: 'phase'; readonly report: PhaseReport }
  | { readonly kind: 'alert'; readonly alert: Alert }
  | { readonly kind: 'snapshot'; readonly event: SnapshotEvent };

export interface JobEventsConsumerDeps {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: EventTopics;
  /** Connected producer for dead letters. */
  readonly producer: Producer;
  readonly jobs: Pick<JobService, 'foldPhase' | 'foldAlert' | 'foldSnapshot'>;
  /** Evaluates a job's alerts after an event about it (optional: the periodic round does it too). */
  readonly alerts?: Pick<AlertService, 'evaluateJob'>;
  readonly log: ConsumerLog;
  /** Phase durations (from each folded phase report) and failed messages by error class. */
  readonly metrics: Pick<ServiceMetrics, 'phaseReported' | 'failure'>;
}

export function jobEventsConsumer(deps: JobEventsConsumerDeps): CommittingConsumer<JobEvent> {
  const { phases, alerts, snapshots } = deps.topics;
  const phase = recordDecoder(phases.value);
  const alert = recordDecoder(alerts.value);
  const snapshot = recordDecoder(snapshots.value);
  const decode: MessageDecoder<JobEvent> = (message) => {
    if (message.topic === phases.name) return { kind: 'phase', report: phaseReportOf(phase(message)) };
    if (message.topic === snapshots.name)
      return { kind: 'snapshot', event: snapshotEventOf(snapshot(message)) };
    return { kind: 'alert', alert: alertOfRecord(alert(message)) };
  };
  const evaluate = async (jobId: string): Promise<void> => {
    if (deps.alerts === undefined) return;
    try {
      await deps.alerts.evaluateJob(jobId);
    } catch (err) {
      deps.log('warn', { event: 'alerts-evaluate-failed', jobId, reason: describeError(err) });
    }
  };
  return new CommittingConsumer({
    kafka: deps.kafka,
    groupId: deps.groupId,
    topics: [phases, alerts, snapshots],
    decode,
    handle: async (event) => {
      if (event.kind === 'phase') {
        await deps.jobs.foldPhase(event.report);
        deps.metrics.phaseReported(event.report);
      } else if (event.kind === 'snapshot') {
        await deps.jobs.foldSnapshot(event.event);
        await evaluate(event.event.jobId);
      } else {
        await deps.jobs.foldAlert(event.alert);
        if (event.alert.lifecycle === undefined && event.alert.jobId !== null)
          await evaluate(event.alert.jobId);
      }
    },
    producer: deps.producer,
    isRetriable: isRetriableError,
    log: deps.log,
    metrics: deps.metrics,
  });
}
