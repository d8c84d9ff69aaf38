// MongoHeadSource against the backup-side server: a head built by the head-builder's writer, a collection the
// oplog-applier created after the initial sync, an empty one, and the head record's applied position.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BSON, BSONRegExp, Double, Int32, Long, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { headDatabasePrefix, headNamespace, opTime, splitNamespace, syncIdOf } from '@tidemark/domain';
import { recordingDatabases } from '@tidemark/head-database';
import { uniqueDbName } from '@tidemark/testing';
import { MongoApplyTarget } from './mongo-apply-target';
import { MongoHeadRegistry } from './mongo-head-registry';
import { HeadNamespaceUnknownError, MongoHeadSource } from './mongo-head-source';

let client: MongoClient;
const metaDb = uniqueDbName('t_headsrc');
const jobId = `hs${randomBytes(5).toString('hex')}`;
const syncNo = 1;
const syncId = syncIdOf(jobId, syncNo);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const raw of it) out.push(Buffer.from(raw));
  return out;
}

async function collectBatches(it: AsyncIterable<readonly Uint8Array[]>): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  for await (const batch of it) out.push(batch.map((raw) => Buffer.from(raw)));
  return out;
}

const orders = [
  { _id: new Int32(3), n: new Long(2n ** 40n), d: new Double(1.5), s: 'three' },
  {
    _id: new Int32(1),
    z: 'field order kept',
    // No Decimal128: FerretDB 1.x closes the connection on one.
    a: new Long(-7n),
    re: new BSONRegExp('^a.*', 'i'),
    at: new Date('2026-12-03T10:00:00.123Z'),
    nested: { b: 2, a: [1, 'x', null] },
  },
  { _id: new Int32(2), s: 'two' },
];

describe('MongoHeadSource on the backup-side server', () => {
  let registry: MongoHeadRegistry;
  let source: MongoHeadSource;

  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
    registry = new MongoHeadRegistry(client, metaDb);
    await registry.init();
    source = new MongoHeadSource(client, registry);
    const ns = (source: string) => ({ ns: source, headNs: headNamespace(jobId, syncNo, source) });
    await registry.recordScanCatalog(jobId, syncId, syncNo, {
      startTs: opTime(1_700_000_000, 1),
      endTs: opTime(1_700_000_010, 2),
      namespaces: [
        { ...ns('shop.orders'), sliceCount: 1, docCount: 3 },
        { ...ns('shop.empty'), sliceCount: 0, docCount: 0 },
        // A source database whose head name had to be shortened: named back through this catalog entry.
        { ...ns('my+db.things'), sliceCount: 1, docCount: 1 },
      ],
    });
    const write = async (sourceNs: string, docs: object[]) => {
      const { db, coll } = splitNamespace(headNamespace(jobId, syncNo, sourceNs));
      await client.db(db).createCollection(coll);
      if (docs.length > 0) await client.db(db).collection(coll).insertMany(docs);
    };
    await write('shop.orders', orders);
    await write('shop.empty', []);
    await write('my+db.things', [{ _id: 'only' }]);
    const { db, coll } = splitNamespace(headNamespace(jobId, syncNo, 'shop.orders'));
    await client.db(db).collection(coll).createIndex({ s: 1 }, { name: 's_1' });
    // The oplog-applier creates a collection the transfer never saw, in a database it never saw: through the target
    // that records the database first, as the oplog-applier's is.
    const target = recordingDatabases(new MongoApplyTarget(client, { readYourWrites: true }), registry, {
      jobId,
      syncId,
    });
    await target.createCollection(headNamespace(jobId, syncNo, 'audit.events'), {});
    await target.insertOrReplace(headNamespace(jobId, syncNo, 'audit.events'), { _id: 'e1', kind: 'login' });
  });

  after(async () => {
    const prefix = headDatabasePrefix(jobId, syncNo);
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases)
      if (d.name.startsWith(prefix) || d.name === metaDb) await client.db(d.name).dropDatabase();
    await client.close();
  });

  it('lists every namespace the head holds, by source name, sorted, with options and indexes', async () => {
    const namespaces = await source.listNamespaces(jobId, syncId);
    assert.deepEqual(
      namespaces.map((n) => n.namespace),
      ['audit.events', 'my+db.things', 'shop.empty', 'shop.orders'],
    );
    const ordersInfo = namespaces.find((n) => n.namespace === 'shop.orders');
    assert.deepEqual(ordersInfo?.indexes.map((i) => i['name']).sort(), ['_id_', 's_1']);
    assert.deepEqual(ordersInfo?.indexes.find((i) => i['name'] === 's_1')?.['key'], { s: 1 });
    for (const n of namespaces) assert.equal(typeof n.options, 'object');
  });

  it("names the catalogs' namespaces without listing the server, and reads nothing for one the head lacks", async () => {
    await registry.recordMissingCatalog(jobId, syncId, [{ ns: 'late.fetched', sliceCount: 1, docCount: 1 }]);
    assert.deepEqual(await source.catalogNamespaces(jobId, syncId), [
      'late.fetched',
      'my+db.things',
      'shop.empty',
      'shop.orders',
    ]);
    assert.deepEqual(await collect(source.documents(jobId, syncId, 'late.fetched')), []);
    assert.deepEqual(await source.catalogNamespaces(jobId, `${jobId}-s9`), []);
  });

  it('streams raw BSON exactly as stored, in _id order, and nothing for an empty namespace', async () => {
    const docs = await collect(source.documents(jobId, syncId, 'shop.orders'));
    const expected = [...orders]
      .sort((a, b) => a._id.value - b._id.value)
      .map((d) => Buffer.from(BSON.serialize(d)));
    assert.equal(docs.length, 3);
    docs.forEach((raw, k) => assert.ok(raw.equals(expected[k]!), `document ${k} byte for byte`));
    assert.deepEqual(await collect(source.documents(jobId, syncId, 'shop.empty')), []);
    const events = await collect(source.documents(jobId, syncId, 'audit.events'));
    assert.deepEqual(
      events.map((b) => BSON.deserialize(b)),
      [{ _id: 'e1', kind: 'login' }],
    );
  });

  it('hands documents over a cursor batch at a time, the same documents in the same order as one by one', async () => {
    const { db, coll } = splitNamespace(headNamespace(jobId, syncNo, 'shop.many'));
    const many = Array.from({ length: 1234 }, (_, k) => ({ _id: k, pad: 'x'.repeat(k % 50) }));
    await client.db(db).collection<{ _id: number; pad: string }>(coll).insertMany(many);
    try {
      const batches = await collectBatches(source.documentBatches(jobId, syncId, 'shop.many'));
      // 500 documents a batch (DOCUMENT_BATCH): a batch is the server's answer, never one document at a time.
      assert.deepEqual(
        batches.map((b) => b.length),
        [500, 500, 234],
      );
      const single = await collect(source.documents(jobId, syncId, 'shop.many'));
      const flat = batches.flat();
      assert.equal(flat.length, single.length);
      flat.forEach((raw, k) => assert.ok(raw.equals(single[k]!), `document ${k}`));
      assert.deepEqual(
        flat.map((raw) => BSON.deserialize(raw)['_id']),
        many.map((d) => d._id),
      );
      assert.deepEqual(await collectBatches(source.documentBatches(jobId, syncId, 'shop.empty')), []);
    } finally {
      await client.db(db).collection(coll).drop();
    }
  });

  it('gives the head record’s applied position, and none for a sync without a head record', async () => {
    assert.deepEqual(await source.appliedPosition(jobId, syncId), { opTime: opTime(1_700_000_000, 1) });
    await registry.setAppliedTs(jobId, syncId, opTime(1_700_000_020, 7));
    assert.deepEqual(await source.appliedPosition(jobId, syncId), { opTime: opTime(1_700_000_020, 7) });
    assert.equal(await source.appliedPosition(jobId, syncIdOf(jobId, 9)), undefined);
  });

  it('lists the recorded and catalogued databases without asking the server for all of its databases', async () => {
    const commands: string[] = [];
    const listen = (e: { commandName: string }) => commands.push(e.commandName);
    const monitored = await new MongoClient(resolveEndpoints().backup.uri, {
      monitorCommands: true,
    }).connect();
    monitored.on('commandStarted', listen);
    try {
      const namespaces = await new MongoHeadSource(monitored, registry).listNamespaces(jobId, syncId);
      assert.deepEqual(
        namespaces.map((n) => n.namespace),
        ['audit.events', 'my+db.things', 'shop.empty', 'shop.orders'],
      );
      assert.ok(!commands.includes('listDatabases'), `commands: ${commands.join(', ')}`);
      assert.ok(commands.includes('listCollections'));
    } finally {
      await monitored.close();
    }
  });

  it('a database written without being recorded is not listed; a record from before recording lists the server', async () => {
    const stray = headNamespace(jobId, syncNo, 'stray.coll');
    await new MongoApplyTarget(client, { readYourWrites: true }).insertOrReplace(stray, { _id: 1 });
    const names = async () => (await source.listNamespaces(jobId, syncId)).map((n) => n.namespace);
    try {
      assert.ok(!(await names()).includes('stray.coll'), 'unrecorded: the head does not hold it');
      // The record as written before recording existed: no recordsDatabases.
      await client
        .db(metaDb)
        .collection<{ _id: string }>('heads')
        .updateOne({ _id: `${jobId}/${syncId}` }, { $unset: { recordsDatabases: '' } });
      assert.equal(await registry.recordedDatabases(jobId, syncId), undefined);
      assert.ok((await names()).includes('stray.coll'), 'listDatabases finds it');
    } finally {
      await client
        .db(metaDb)
        .collection<{ _id: string }>('heads')
        .updateOne({ _id: `${jobId}/${syncId}` }, { $set: { recordsDatabases: true } });
      await client.db(splitNamespace(stray).db).dropDatabase();
    }
  });

  it('refuses to guess the source of a shortened head database no catalog lists', async () => {
    const target = recordingDatabases(new MongoApplyTarget(client, { readYourWrites: true }), registry, {
      jobId,
      syncId,
    });
    const ns = headNamespace(jobId, syncNo, 'new db.coll'); // a space: the head name is shortened
    await target.createCollection(ns, {});
    try {
      await assert.rejects(source.listNamespaces(jobId, syncId), (err: unknown) => {
        assert.ok(err instanceof HeadNamespaceUnknownError);
        assert.equal(err.retriable, false);
        assert.equal(err.headDatabase, splitNamespace(ns).db);
        return true;
      });
    } finally {
      await client.db(splitNamespace(ns).db).dropDatabase();
    }
  });

  it('refuses a sync id of another job', async () => {
    await assert.rejects(source.listNamespaces(jobId, 'other-s1'), RangeError);
  });
});
