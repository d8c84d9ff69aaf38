import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  opTime,
  RESTORE_EVENT_KINDS,
  RESTORE_KINDS,
  SchemaMismatchError,
  type RestoreEvent,
} from '@tidemark/domain';
import { defaultCodec } from './codec';
import { fromFixtureJson, type FixtureFile } from './fixture-json';
import { restoreEventOf, restoreEventRecord } from './restore-mapping';
import { defaultSchemasDir, fixturePath } from './schema-files';
import { resolveTopics } from './topics';
import {
  AVRO_RESTORE_EVENT_KIND_SYMBOLS,
  AVRO_RESTORE_KIND_SYMBOLS,
  type RestoreEvent as RestoreEventRecord,
} from './types';

const codec = defaultCodec();

const started: RestoreEvent = {
  event: 'started',
  restoreId: 'r-job00001-20261203T100000Z-abcd',
  jobId: 'job00001',
  kind: 'snapshot',
  snapshotId: 'job00001-20261203T090000Z-q1w2',
  opTime: opTime(1_700_000_000, 3),
  target: 'mongodb://target:27017/',
  include: [],
  exclude: [],
  renames: [],
  drop: false,
  cancelRequested: false,
  documents: 0,
  bytes: 0,
  entries: 0,
  namespaces: [],
  at: new Date('2026-12-03T10:00:00.000Z'),
};

const { snapshotId: _s, opTime: _o, ...unpositioned } = started;
/** A point-in-time restore that failed before it knew its snapshot: the optional fields absent. */
const failed: RestoreEvent = {
  ...unpositioned,
  event: 'failed',
  kind: 'point-in-time',
  point: '2026-12-03T09:30:00Z',
  include: ['shop'],
  exclude: ['shop.logs'],
  renames: ['shop=shop2'],
  drop: true,
  cancelRequested: true,
  documents: 12,
  bytes: 3456,
  entries: 7,
  namespaces: [{ namespace: 'shop2.orders', documents: 12, done: false }],
  reason: 'restore failed: E11000. shop2.orders: 12 documents written',
};

describe('restore event mapping', () => {
  it('maps every kind both ways, symbol for symbol', () => {
    assert.deepEqual(
      RESTORE_EVENT_KINDS.map((k) => restoreEventRecord({ ...started, event: k }).event),
      [...AVRO_RESTORE_EVENT_KIND_SYMBOLS],
    );
    assert.deepEqual(
      RESTORE_KINDS.map((k) => restoreEventRecord({ ...started, kind: k }).kind),
      [...AVRO_RESTORE_KIND_SYMBOLS],
    );
  });

  it('round-trips through Avro bytes, optional fields absent or present', () => {
    for (const event of [started, failed]) {
      const bytes = codec.encode('tidemark.restores.RestoreEvent', restoreEventRecord(event));
      const back = restoreEventOf(codec.decodeAs('tidemark.restores.RestoreEvent', bytes, 'spec'));
      assert.deepEqual(back, event);
    }
  });

  it('refuses counts that are not counts', () => {
    assert.throws(() => restoreEventRecord({ ...started, documents: -1 }), SchemaMismatchError);
    assert.throws(() => restoreEventRecord({ ...started, bytes: 1.5 }), SchemaMismatchError);
  });

  it('reads the golden fixture into a domain event without credentials in the target', () => {
    const dir = defaultSchemasDir();
    const file = fixturePath(dir, 'tidemark.restores.RestoreEvent', 1);
    const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
    const type = codec.registry.record('tidemark.restores.RestoreEvent').current.type;
    const event = restoreEventOf(fromFixtureJson(type, fixture.value) as RestoreEventRecord);
    assert.equal(event.event, 'completed');
    assert.deepEqual(event.opTime, opTime(1_700_003_600, 12));
    assert.doesNotMatch(event.target, /@/);
    assert.equal(event.namespaces.length, 2);
  });

  it('is keyed by job id on tidemark.restores, which job-state produces', () => {
    const topics = resolveTopics({ env: {} });
    assert.equal(topics.restores.name, 'tidemark.restores');
    assert.equal(topics.restores.keyOf(restoreEventRecord(started)), 'job00001');
    assert.deepEqual(topics.restores.producers, ['job-state']);
  });
});
