/**
 * Reading the source against the real source server (SOURCE_MONGODB_URI or the infra state file; FerretDB here):
 * scans and fetches return the exact BSON bytes, namespaces come with options and indexes, and the server facts
 * are reported. Every test writes to a database of its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, Binary, Long, ObjectId, type MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { connectMongo } from '@tidemark/mongo';
import { uniqueDbName } from '@tidemark/testing';
import { fetchDocumentsById } from './fetch-documents';
import { listSourceNamespaces } from './list-source-namespaces';
import { latestOplogTs, oldestOplogTs } from './oplog-bounds';
import { scanCollection } from './scan-collection';
import { sourceInfo } from './source-info';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function collect(iter: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const doc of iter) out.push(doc);
  return out;
}

describe('source reads (scan, list, info, fetch)', () => {
  let client: MongoClient;
  const db = uniqueDbName('src_it');
  const other = uniqueDbName('src_it_other');

  before(async () => {
    client = await connectMongo(resolveEndpoints().source.uri, { appName: 'tidemark-source-int-spec' });
  });
  after(async () => {
    await client.db(db).dropDatabase();
    await client.db(other).dropDatabase();
    await client.close();
  });

  it('scans every document as its exact BSON bytes, in bounded batches', async () => {
    const docs = Array.from({ length: 2500 }, (_, k) => ({
      _id: k % 3 === 0 ? new ObjectId() : k,
      name: `doc-${k}`,
      nested: { a: k, list: [1, 'two', { three: 3 }] },
      when: new Date(1_700_000_000_000 + k),
      big: Long.fromString('9007199254740993'),
      bin: new Binary(Buffer.from([k & 0xff, 1, 2])),
      ratio: k / 7,
      flag: k % 2 === 0,
      nothing: null,
    }));
    await client
      .db(db)
      .collection('items')
      .insertMany(docs as never[]);
    const scanned = await collect(scanCollection(client, `${db}.items`, { batchSize: 300 }));
    assert.equal(scanned.length, docs.length);
    const expected = new Set(docs.map((d) => hex(BSON.serialize(d))));
    for (const raw of scanned)
      assert.ok(expected.has(hex(raw)), `unexpected bytes ${hex(raw).slice(0, 60)}...`);
    assert.equal(new Set(scanned.map(hex)).size, docs.length, 'no document twice');
  });

  it('scans an empty collection as nothing, and stops when aborted', async () => {
    await client.db(db).createCollection('empty');
    assert.deepEqual(await collect(scanCollection(client, `${db}.empty`)), []);
    const controller = new AbortController();
    const iter = scanCollection(client, `${db}.items`, { batchSize: 10, signal: controller.signal });
    let n = 0;
    await assert.rejects(async () => {
      for await (const _doc of iter) {
        n += 1;
        if (n === 5) controller.abort();
      }
    }, /abort/i);
    assert.equal(n, 5);
  });

  it('lists selected collections with options, indexes and estimates; skips unselected ones', async () => {
    await client.db(db).createCollection('capped', { capped: true, size: 64 * 1024 });
    await client.db(db).collection('items').createIndex({ name: 1 }, { name: 'name_1' });
    await client.db(other).collection<{ _id: number }>('x').insertOne({ _id: 1 });
    const all = await listSourceNamespaces(client, { include: [db], exclude: [] });
    assert.deepEqual(
      all.map((n) => n.ns),
      [`${db}.capped`, `${db}.empty`, `${db}.items`],
    );
    const items = all.find((n) => n.ns === `${db}.items`)!;
    assert.deepEqual(items.indexes.map((i) => i['name']).sort(), ['_id_', 'name_1']);
    assert.equal(items.estimatedDocs, 2500);
    assert.ok(items.estimatedBytes === undefined || items.estimatedBytes > 0);
    const capped = all.find((n) => n.ns === `${db}.capped`)!;
    assert.equal(capped.options['capped'], true);
    const excluded = await listSourceNamespaces(client, { include: [db, other], exclude: [`${db}.items`] });
    assert.deepEqual(
      excluded.map((n) => n.ns),
      [`${db}.capped`, `${db}.empty`, `${other}.x`],
    );
    const everything = await listSourceNamespaces(client, { include: [], exclude: [] });
    assert.ok(everything.every((n) => !n.ns.startsWith('local.') && !n.ns.startsWith('admin.')));
  });

  it('reports the server version and feature compatibility version (or unknown)', async () => {
    const info = await sourceInfo(client);
    assert.match(info.serverVersion, /^\d+\.\d+/);
    assert.match(info.featureCompatibilityVersion, /^(\d+\.\d+|unknown)$/);
  });

  it('reads the oplog bounds: the newest entry is at or after our last write, the oldest before it', async () => {
    await client.db(db).collection<{ _id: string }>('bounds').insertOne({ _id: 'last' });
    const newest = await latestOplogTs(client);
    const oldest = await oldestOplogTs(client);
    assert.ok(newest && oldest);
    // Other suites write to the same source concurrently, so our entry need not be the newest one.
    const entry = await client
      .db('local')
      .collection('oplog.rs')
      .findOne({ ns: `${db}.bounds`, op: 'i' }, { sort: { $natural: -1 } });
    const ts = entry?.['ts'] as { t: number; i: number } | undefined;
    assert.ok(ts, 'our insert is in the oplog');
    const le = (a: { t: number; i: number }, b: { t: number; i: number }) =>
      a.t < b.t || (a.t === b.t && a.i <= b.i);
    assert.ok(le(ts, newest), 'the newest entry is not before our write');
    assert.ok(le(oldest, ts), 'the oldest entry is not after our write');
  });

  it('fetches documents by _id as exact bytes; missing ids yield nothing', async () => {
    const coll = client.db(db).collection('fetch');
    const docs = [
      { _id: 1, a: 'x' },
      { _id: 'two', b: [1, 2] },
      { _id: new ObjectId(), c: { d: 1 } },
    ];
    await coll.insertMany(docs as never[]);
    const got = await collect(fetchDocumentsById(client, `${db}.fetch`, [1, docs[2]!._id, 'absent']));
    assert.deepEqual(got.map(hex).sort(), [docs[0]!, docs[2]!].map((d) => hex(BSON.serialize(d))).sort());
    assert.deepEqual(await collect(fetchDocumentsById(client, `${db}.fetch`, [])), []);
  });
});
