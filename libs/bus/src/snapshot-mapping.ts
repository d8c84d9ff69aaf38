/**
 * Snapshot events on the bus, the one mapping both ways: a `SnapshotEvent` of @tidemark/domain (kinds and stores in
 * lower case, counts as numbers, optional fields absent) as the Avro `SnapshotEvent` record (enum symbols in upper
 * case, counts as longs, optional fields null, the position as one long, `op-time-long.ts`); and
 * `KafkaSnapshotEventPublisher`, the domain's `SnapshotEventPublisher` port on `tidemark.snapshots`.
 */
import type { Producer } from 'kafkajs';
import {
  SchemaMismatchError,
  type SnapshotEvent,
  type SnapshotEventKind,
  type SnapshotEventPublisher,
  type SnapshotStoreKind,
} from '@tidemark/domain';
import { publish } from './kafka';
import { opTimeFromAvroLong, opTimeToAvroLong } from './op-time-long';
import type { RecordTopic } from './topics';
import type {
  AvroSnapshotEventKind,
  AvroSnapshotStoreKind,
  SnapshotEvent as SnapshotEventRecord,
} from './types';

const SCHEMA = 'tidemark.snapshots.SnapshotEvent';

const KIND_TO_AVRO: Readonly<Record<SnapshotEventKind, AvroSnapshotEventKind>> = {
  started: 'STARTED',
  completed: 'COMPLETED',
  failed: 'FAILED',
  expired: 'EXPIRED',
  verified: 'VERIFIED',
  deleted: 'DELETED',
};
const KIND_FROM_AVRO: Readonly<Record<AvroSnapshotEventKind, SnapshotEventKind>> = {
  STARTED: 'started',
  COMPLETED: 'completed',
  FAILED: 'failed',
  EXPIRED: 'expired',
  VERIFIED: 'verified',
  DELETED: 'deleted',
};
const STORE_TO_AVRO: Readonly<Record<SnapshotStoreKind, AvroSnapshotStoreKind>> = {
  blockstore: 'BLOCKSTORE',
  s3: 'S3',
  filesystem: 'FILESYSTEM',
};
const STORE_FROM_AVRO: Readonly<Record<AvroSnapshotStoreKind, SnapshotStoreKind>> = {
  BLOCKSTORE: 'blockstore',
  S3: 's3',
  FILESYSTEM: 'filesystem',
};

/** A count as an Avro long; refuses a value that is not a non-negative safe integer. */
function countToLong(field: string, value: number): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SchemaMismatchError({ schemaName: SCHEMA, detail: `${field} ${value} is not a count` });
  }
  return BigInt(value);
}

/** A count from an Avro long; refuses one a `number` cannot hold exactly, or a negative one. */
function countOfLong(field: string, value: bigint): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SchemaMismatchError({ schemaName: SCHEMA, detail: `${field} ${value} is not a count` });
  }
  return Number(value);
}

/** The `SnapshotEvent` record of a snapshot event. Throws `SchemaMismatchError` for a count that is not one. */
export function snapshotEventRecord(event: SnapshotEvent): SnapshotEventRecord {
  return {
    event: KIND_TO_AVRO[event.event],
    jobId: event.jobId,
    snapshotId: event.snapshotId,
    syncId: event.syncId,
    store: STORE_TO_AVRO[event.store],
    opTs: opTimeToAvroLong(event.opTime),
    opWallTime: event.opWallTime ?? null,
    takenAt: event.takenAt,
    completedAt: event.completedAt ?? null,
    logicalBytes: countToLong('logicalBytes', event.logicalBytes),
    storedBytes: countToLong('storedBytes', event.storedBytes),
    namespaceCount: countToLong('namespaceCount', event.namespaceCount),
    documentCount: countToLong('documentCount', event.documentCount),
    manifestChecksum: event.manifestChecksum ?? null,
    reason: event.reason ?? null,
    verify:
      event.verify === undefined
        ? null
        : { ok: event.verify.ok, damagedBlocks: countToLong('damagedBlocks', event.verify.damagedBlocks) },
    requestId: event.requestId ?? null,
    at: event.at,
  };
}

/** The snapshot event a `SnapshotEvent` record carries. Throws `SchemaMismatchError` for a count out of range. */
export function snapshotEventOf(record: SnapshotEventRecord): SnapshotEvent {
  return {
    event: KIND_FROM_AVRO[record.event],
    jobId: record.jobId,
    snapshotId: record.snapshotId,
    syncId: record.syncId,
    store: STORE_FROM_AVRO[record.store],
    opTime: opTimeFromAvroLong(record.opTs),
    ...(record.opWallTime === null ? {} : { opWallTime: record.opWallTime }),
    takenAt: record.takenAt,
    ...(record.completedAt === null ? {} : { completedAt: record.completedAt }),
    logicalBytes: countOfLong('logicalBytes', record.logicalBytes),
    storedBytes: countOfLong('storedBytes', record.storedBytes),
    namespaceCount: countOfLong('namespaceCount', record.namespaceCount),
    documentCount: countOfLong('documentCount', record.documentCount),
    ...(record.manifestChecksum === null ? {} : { manifestChecksum: record.manifestChecksum }),
    ...(record.reason === null ? {} : { reason: record.reason }),
    ...(record.verify === null
      ? {}
      : {
          verify: {
            ok: record.verify.ok,
            damagedBlocks: countOfLong('damagedBlocks', record.verify.damagedBlocks),
          },
        }),
    ...(record.requestId === null ? {} : { requestId: record.requestId }),
    at: record.at,
  };
}

/**
 * Snapshot events as `SnapshotEvent` records on `tidemark.snapshots`, keyed by the topic's rule (the job id),
 * resolved once the broker acknowledged them on all in-sync replicas.
 */
export class KafkaSnapshotEventPublisher implements SnapshotEventPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.snapshots.SnapshotEvent'>,
  ) {}

  async publish(event: SnapshotEvent): Promise<void> {
    await publish(this.producer, this.topic, snapshotEventRecord(event));
  }
}
