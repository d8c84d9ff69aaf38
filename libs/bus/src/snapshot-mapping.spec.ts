import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  opTime,
  SchemaMismatchError,
  SNAPSHOT_EVENT_KINDS,
  SNAPSHOT_STORE_KINDS,
  type SnapshotEvent,
} from '@tidemark/domain';
import { defaultCodec } from './codec';
import { fromFixtureJson, type FixtureFile } from './fixture-json';
import { defaultSchemasDir, fixturePath } from './schema-files';
import { snapshotEventOf, snapshotEventRecord } from './snapshot-mapping';
import {
  AVRO_SNAPSHOT_EVENT_KIND_SYMBOLS,
  AVRO_SNAPSHOT_STORE_KIND_SYMBOLS,
  type SnapshotEvent as SnapshotEventRecord,
} from './types';

const codec = defaultCodec();

const started: SnapshotEvent = {
  event: 'started',
  jobId: 'job-1',
  snapshotId: 'snap-1',
  syncId: 'job-1-s1',
  store: 'blockstore',
  opTime: opTime(1_700_000_000, 3),
  takenAt: new Date('2026-12-03T10:00:00.000Z'),
  logicalBytes: 0,
  storedBytes: 0,
  namespaceCount: 0,
  documentCount: 0,
  requestId: 'req-1',
  at: new Date('2026-12-03T10:00:00.000Z'),
};

const verified: SnapshotEvent = {
  event: 'verified',
  jobId: 'job-1',
  snapshotId: 'snap-1',
  syncId: 'job-1-s1',
  store: 's3',
  opTime: opTime(2 ** 31 + 5, 0xffff_fffe),
  opWallTime: new Date('2038-01-19T03:14:13.000Z'),
  takenAt: new Date('2026-12-03T10:00:00.000Z'),
  completedAt: new Date('2026-12-03T10:00:07.000Z'),
  logicalBytes: 2 ** 40,
  storedBytes: 1234,
  namespaceCount: 3,
  documentCount: 1_000_000,
  manifestChecksum: 'c'.repeat(64),
  reason: '1 block damaged',
  verify: { ok: false, damagedBlocks: 1 },
  at: new Date('2026-12-04T10:00:00.000Z'),
};

describe('snapshot events ↔ SnapshotEvent records', () => {
  it('name the same kinds and stores, in the same order, in the domain and in the schema', () => {
    assert.deepEqual(
      SNAPSHOT_EVENT_KINDS.map((k) => k.toUpperCase()),
      [...AVRO_SNAPSHOT_EVENT_KIND_SYMBOLS],
    );
    assert.deepEqual(
      SNAPSHOT_STORE_KINDS.map((k) => k.toUpperCase()),
      [...AVRO_SNAPSHOT_STORE_KIND_SYMBOLS],
    );
  });

  for (const event of [started, verified]) {
    it(`round-trip a ${event.event} event through the record and the codec unchanged`, () => {
      const record = snapshotEventRecord(event);
      const bytes = codec.encode('tidemark.snapshots.SnapshotEvent', record);
      const decoded = codec.decode(bytes, 'spec');
      assert.equal(decoded.record, 'tidemark.snapshots.SnapshotEvent');
      assert.deepEqual(snapshotEventOf(decoded.value as SnapshotEventRecord), event);
    });
  }

  it('write absent optional fields as null, and a position past 2038 as a negative long', () => {
    const record = snapshotEventRecord(started);
    assert.equal(record.completedAt, null);
    assert.equal(record.opWallTime, null);
    assert.equal(record.manifestChecksum, null);
    assert.equal(record.reason, null);
    assert.equal(record.verify, null);
    assert.equal(record.requestId, 'req-1');
    assert.ok(snapshotEventRecord(verified).opTs < 0n);
  });

  it('map the golden fixture to the domain event it describes', () => {
    const dir = defaultSchemasDir();
    const fixture = JSON.parse(
      fs.readFileSync(fixturePath(dir, 'tidemark.snapshots.SnapshotEvent', 1), 'utf8'),
    ) as FixtureFile;
    const type = codec.registry.record('tidemark.snapshots.SnapshotEvent').current.type;
    const event = snapshotEventOf(fromFixtureJson(type, fixture.value) as SnapshotEventRecord);
    assert.equal(event.event, 'verified');
    assert.equal(event.store, 's3');
    assert.deepEqual(event.opTime, opTime(1_700_003_600, 12));
    assert.deepEqual(event.verify, { ok: false, damagedBlocks: 2 });
    assert.equal(event.documentCount, 1_250_000);
  });

  it('refuse counts a long or a number cannot carry exactly', () => {
    assert.throws(() => snapshotEventRecord({ ...started, logicalBytes: 1.5 }), SchemaMismatchError);
    assert.throws(() => snapshotEventRecord({ ...started, documentCount: -1 }), SchemaMismatchError);
    const record = snapshotEventRecord(started);
    assert.throws(
      () => snapshotEventOf({ ...record, storedBytes: 2n ** 53n }),
      /storedBytes 9007199254740992 is not a count/,
    );
  });
});
