/**
 * The restore events' outbox over real servers: `MongoRestoreCatalog` on the backup-side FerretDB, and
 * `KafkaRestoreEventPublisher` on the real broker. A job-state whose producer cannot reach Kafka records a cancel and
 * a finish, the calls fail (retriable) and the events stay owed in the restore record; another job-state (a replica,
 * or the same after a restart: nothing is kept in memory) publishes them with `flushUnpublished`, in order, each
 * with its own time, and then owes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { defaultCodec, KafkaRestoreEventPublisher, restoreEventOf } from '@tidemark/bus';
import type { RestoreEvent } from '@tidemark/domain';
import { newJobRecord, parseBeginRestoreRequest, RestoreService } from '@tidemark/jobs';
import { MongoJobRepository, MongoRestoreCatalog, MongoSnapshotCatalog } from '@tidemark/jobs-mongo';
import { classifyMongoError } from '@tidemark/mongo';
import { eventually, OutboxSpec, specWorld } from './support';

const world = specWorld('restore-outbox', 'ro');
const { suffix, metaDb, endpoints, topics } = world;
const JOB = `ro${suffix}`;

describe('restore events outbox (real Kafka and MongoDB)', () => {
  const codec = defaultCodec();
  const outbox = new OutboxSpec<RestoreEvent>(world, {
    topic: topics.restores,
    decode: (value) => restoreEventOf(codec.decodeAs('tidemark.restores.RestoreEvent', value, 'it')),
    databases: [metaDb],
  });
  before(() => outbox.open());
  after(() => outbox.close());

  it('events of changes made while Kafka is unreachable are published later by another job-state, in order', async () => {
    const { client, producer, unreachable, events } = outbox;
    const jobs = new MongoJobRepository(client, metaDb, classifyMongoError);
    await jobs.init();
    await jobs.insert(
      newJobRecord(
        { project: 'shop', sourceUri: endpoints.source.uri, include: [], exclude: [] },
        JOB,
        new Date(),
      ),
    );
    const restores = new MongoRestoreCatalog(client, metaDb, classifyMongoError);
    await restores.init();
    const snapshots = new MongoSnapshotCatalog(client, metaDb, classifyMongoError);
    const replica = (p: Producer) =>
      new RestoreService({
        jobs,
        snapshots,
        restores,
        events: new KafkaRestoreEventPublisher(p, topics.restores),
      });

    const began = await replica(producer).begin(
      parseBeginRestoreRequest({
        jobId: JOB,
        point: '1700000000:9',
        target: 'mongodb://u:secret@target:27017/',
      }),
    );
    const cutOff = replica(unreachable);
    await assert.rejects(
      cutOff.requestCancel(began.restoreId),
      /cancel-requested event could not be published/,
    );
    await assert.rejects(
      cutOff.finish(began.restoreId, { state: 'cancelled', reason: 'asked to; nothing was written' }),
      /is recorded cancelled.*event could not be published/,
    );
    const owed = await restores.get(began.restoreId);
    assert.deepEqual(
      owed?.unpublished.map((u) => u.kind),
      ['cancel-requested', 'cancelled'],
    );

    assert.equal(await replica(producer).flushUnpublished(), 1);
    const mine = await eventually('three events of the restore', async () => {
      const seen = events.filter((e) => e.restoreId === began.restoreId);
      return seen.length >= 3 ? seen : undefined;
    });
    assert.deepEqual(
      mine.map((e) => e.event),
      ['started', 'cancel-requested', 'cancelled'],
    );
    assert.deepEqual(
      mine.slice(1).map((e) => e.at.getTime()),
      owed!.unpublished.map((u) => u.at.getTime()),
      'each late event has the time of its change',
    );
    assert.equal(mine[2]!.reason, 'asked to; nothing was written');
    assert.deepEqual((await restores.get(began.restoreId))?.unpublished, []);
    assert.equal(await replica(producer).flushUnpublished(), 0);
  });
});
