/**
 * Restore events on the bus, the one mapping both ways: a `RestoreEvent` of @tidemark/domain (kinds in lower
 * case, counts as numbers, optional fields absent) as the Avro `RestoreEvent` record (enum symbols in upper case,
 * counts as longs, optional fields null, the position as one long, `op-time-long.ts`); and
 * `KafkaRestoreEventPublisher`, the domain's `RestoreEventPublisher` port on `tidemark.restores`.
 */
import type { Producer } from 'kafkajs';
import {
  SchemaMismatchError,
  type RestoreEvent,
  type RestoreEventKind,
  type RestoreEventPublisher,
  type RestoreKind,
} from '@tidemark/domain';
import { publish } from './kafka';
import { opTimeFromAvroLong, opTimeToAvroLong } from './op-time-long';
import type { RecordTopic } from './topics';
import type { AvroRestoreEventKind, AvroRestoreKind, RestoreEvent as RestoreEventRecord } from './types';

const SCHEMA = 'tidemark.restores.RestoreEvent';

const EVENT_TO_AVRO: Readonly<Record<RestoreEventKind, AvroRestoreEventKind>> = {
  started: 'STARTED',
  progressed: 'PROGRESSED',
  'cancel-requested': 'CANCEL_REQUESTED',
  completed: 'COMPLETED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};
const EVENT_FROM_AVRO: Readonly<Record<AvroRestoreEventKind, RestoreEventKind>> = {
  STARTED: 'started',
  PROGRESSED: 'progressed',
  CANCEL_REQUESTED: 'cancel-requested',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};
const KIND_TO_AVRO: Readonly<Record<RestoreKind, AvroRestoreKind>> = {
  snapshot: 'SNAPSHOT',
  'point-in-time': 'POINT_IN_TIME',
};
const KIND_FROM_AVRO: Readonly<Record<AvroRestoreKind, RestoreKind>> = {
  SNAPSHOT: 'snapshot',
  POINT_IN_TIME: 'point-in-time',
};

function countToLong(field: string, value: number): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SchemaMismatchError({ schemaName: SCHEMA, detail: `${field} ${value} is not a count` });
  }
  return BigInt(value);
}

function countOfLong(field: string, value: bigint): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SchemaMismatchError({ schemaName: SCHEMA, detail: `${field} ${value} is not a count` });
  }
  return Number(value);
}

/** The `RestoreEvent` record of a restore event. Throws `SchemaMismatchError` for a count that is not one. */
export function restoreEventRecord(event: RestoreEvent): RestoreEventRecord {
  return {
    event: EVENT_TO_AVRO[event.event],
    restoreId: event.restoreId,
    jobId: event.jobId,
    kind: KIND_TO_AVRO[event.kind],
    snapshotId: event.snapshotId ?? null,
    point: event.point ?? null,
    opTs: event.opTime === undefined ? null : opTimeToAvroLong(event.opTime),
    opWallTime: event.opWallTime ?? null,
    target: event.target,
    include: [...event.include],
    exclude: [...event.exclude],
    renames: [...event.renames],
    drop: event.drop,
    cancelRequested: event.cancelRequested,
    documents: countToLong('documents', event.documents),
    bytes: countToLong('bytes', event.bytes),
    entries: countToLong('entries', event.entries),
    namespaces: event.namespaces.map((n) => ({
      namespace: n.namespace,
      documents: countToLong(`namespaces[${n.namespace}].documents`, n.documents),
      done: n.done,
    })),
    reason: event.reason ?? null,
    at: event.at,
  };
}

/** The restore event a `RestoreEvent` record carries. Throws `SchemaMismatchError` for a count out of range. */
export function restoreEventOf(record: RestoreEventRecord): RestoreEvent {
  return {
    event: EVENT_FROM_AVRO[record.event],
    restoreId: record.restoreId,
    jobId: record.jobId,
    kind: KIND_FROM_AVRO[record.kind],
    ...(record.snapshotId === null ? {} : { snapshotId: record.snapshotId }),
    ...(record.point === null ? {} : { point: record.point }),
    ...(record.opTs === null ? {} : { opTime: opTimeFromAvroLong(record.opTs) }),
    ...(record.opWallTime === null ? {} : { opWallTime: record.opWallTime }),
    target: record.target,
    include: [...record.include],
    exclude: [...record.exclude],
    renames: [...record.renames],
    drop: record.drop,
    cancelRequested: record.cancelRequested,
    documents: countOfLong('documents', record.documents),
    bytes: countOfLong('bytes', record.bytes),
    entries: countOfLong('entries', record.entries),
    namespaces: record.namespaces.map((n) => ({
      namespace: n.namespace,
      documents: countOfLong(`namespaces[${n.namespace}].documents`, n.documents),
      done: n.done,
    })),
    ...(record.reason === null ? {} : { reason: record.reason }),
    at: record.at,
  };
}

/**
 * Restore events as `RestoreEvent` records on `tidemark.restores`, keyed by the topic's rule (the job id),
 * resolved once the broker acknowledged them on all in-sync replicas.
 */
export class KafkaRestoreEventPublisher implements RestoreEventPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.restores.RestoreEvent'>,
  ) {}

  async publish(event: RestoreEvent): Promise<void> {
    await publish(this.producer, this.topic, restoreEventRecord(event));
  }
}
