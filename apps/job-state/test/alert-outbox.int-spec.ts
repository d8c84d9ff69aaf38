/**
 * The alert events' outbox over real servers: `MongoAlertStore` on the backup-side FerretDB and `KafkaAlertPublisher`
 * on the real broker. A job-state whose producer cannot reach Kafka opens and then closes a SNAPSHOT_FAILED alert:
 * both are stored and both events stay owed in the alert; another job-state (a replica, or the same after a restart:
 * nothing is kept in memory) publishes them with `flushUnpublished`, OPEN before CLOSED, and then owes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { alertOfRecord, defaultCodec, KafkaAlertPublisher } from '@tidemark/bus';
import type { Alert } from '@tidemark/domain';
import { MongoHeadRegistry, MongoHeadWriter } from '@tidemark/head-database-mongo';
import { AlertService, applyUserAction, newJobRecord, requestedEntry, StoreBackupData } from '@tidemark/jobs';
import {
  MongoAlertStore,
  MongoJobRepository,
  MongoRestoreCatalog,
  MongoSnapshotCatalog,
} from '@tidemark/jobs-mongo';
import { classifyMongoError } from '@tidemark/mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import { eventually, OutboxSpec, specWorld } from './support';

const world = specWorld('alert-outbox', 'ao');
const { suffix, metaDb, oplogStoreDb, endpoints, topics } = world;
const JOB = `ao${suffix}`;

describe('alert events outbox (real Kafka and MongoDB)', () => {
  const codec = defaultCodec();
  const outbox = new OutboxSpec<Alert>(world, {
    topic: topics.alerts,
    decode: (value) => alertOfRecord(codec.decodeAs('tidemark.alerts.AlertRaised', value, 'it')),
    databases: [metaDb, oplogStoreDb],
  });
  before(() => outbox.open());
  after(() => outbox.close());

  it('an opening and a closing recorded while Kafka is unreachable are published later, in order', async () => {
    const { client, producer, unreachable, events } = outbox;
    const jobs = new MongoJobRepository(client, metaDb, classifyMongoError);
    await jobs.init();
    const now = new Date();
    const created = newJobRecord(
      { project: 'shop', sourceUri: endpoints.source.uri, include: [], exclude: [] },
      JOB,
      now,
    );
    // An active job (a terminated, inactive one holds no alerts).
    const started = applyUserAction(created, 'start', { now, messageId: () => `m-${suffix}` });
    await jobs.insert({ ...started, state: 'active', phase: 'complete', outbox: [] });
    const snapshots = new MongoSnapshotCatalog(client, metaDb, classifyMongoError);
    await snapshots.init();
    const store = new MongoAlertStore(client, metaDb, classifyMongoError);
    await store.init();
    const replica = (p: Producer) =>
      new AlertService({
        store,
        events: new KafkaAlertPublisher(p, topics.alerts),
        jobs,
        backupData: new StoreBackupData(
          new MongoHeadRegistry(client, metaDb),
          new MongoHeadWriter(client),
          new MongoOplogStore(client, oplogStoreDb),
          classifyMongoError,
        ),
        snapshots,
        restores: new MongoRestoreCatalog(client, metaDb, classifyMongoError),
      });
    const snapshot = (id: string, state: 'failed' | 'complete', at: Date) =>
      snapshots.put({
        ...requestedEntry(JOB, id, 'blockstore', at),
        state,
        takenAt: at,
        completedAt: at,
        reason: state === 'failed' ? 'fence busy' : undefined,
      });

    const cutOff = replica(unreachable);
    await snapshot(`${JOB}-20261204T010000Z-f001`, 'failed', now);
    assert.deepEqual(await cutOff.evaluateJob(JOB), { opened: 1, closed: 0 });
    await snapshot(`${JOB}-20261204T020000Z-c002`, 'complete', new Date(now.getTime() + 1000));
    assert.deepEqual(await cutOff.evaluateJob(JOB), { opened: 0, closed: 1 });
    const [stored] = await store.list({ jobId: JOB, limit: 10 });
    assert.deepEqual([stored?.state, stored?.unpublished], ['closed', ['open', 'closed']]);
    await assert.rejects(cutOff.flushUnpublished());
    assert.equal(events.length, 0, 'nothing reached the topic');

    assert.equal(await replica(producer).flushUnpublished(), 1);
    const mine = await eventually('both events of the alert', async () => {
      const seen = events.filter((e) => e.alertId === stored!.alertId);
      return seen.length >= 2 ? seen : undefined;
    });
    assert.deepEqual(
      mine.map((e) => [e.code, e.lifecycle?.state]),
      [
        ['SNAPSHOT_FAILED', 'open'],
        ['SNAPSHOT_FAILED', 'closed'],
      ],
    );
    assert.equal(mine[1]!.lifecycle?.closeReason, `snapshot ${JOB}-20261204T020000Z-c002 completed`);
    assert.deepEqual((await store.get(stored!.alertId))?.unpublished, []);
    assert.equal(await replica(producer).flushUnpublished(), 0);
  });
});
