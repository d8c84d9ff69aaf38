import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BSON,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Binary,
  BSONRegExp,
  Timestamp,
  EJSON,
} from 'bson';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { localFerretdbBackend, uniqueDbName } from '@tidemark/testing';
import { describeHeadRegistry } from '@tidemark/head-database-contract';
import { HEAD_RECORD_FORMAT, MongoHeadRegistry } from './mongo-head-registry';
import { MongoHeadWriter } from './mongo-head-writer';
import { BsonFidelityError, fromRawBson } from './raw-bson';

describeHeadRegistry('MongoDB (backup side)', async () => {
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  const dbName = uniqueDbName('t_meta');
  const registry = new MongoHeadRegistry(client, dbName);
  await registry.init();
  return {
    registry,
    close: async () => {
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  };
});

describe('MongoHeadRegistry format versions', () => {
  let client: MongoClient;
  const dbName = uniqueDbName('t_meta_versions');
  const catalog = { startTs: { t: 5, i: 1 }, endTs: { t: 6, i: 1 }, namespaces: [] };
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });
  const refusedAs = (recordKind: string, where: string, found: unknown) => (err: unknown) => {
    assert.ok(err instanceof UnknownFormatVersionError, String(err));
    assert.equal(err.recordKind, recordKind);
    assert.equal(err.found, found);
    assert.deepEqual(err.known, [1]);
    assert.equal(err.where, where);
    assert.equal(err.retriable, false);
    assert.match(err.message, new RegExp(`format version ${String(found)} is unknown to this build`));
    return true;
  };

  it('writes v: 1 and reads a head record without v as version 1', async () => {
    const registry = new MongoHeadRegistry(client, dbName);
    await registry.init();
    await registry.recordScanCatalog('j0', 'j0-s1', 1, catalog);
    await registry.markBuilt('s0', { jobId: 'j0', syncId: 'j0-s1', origin: 'scan', ns: 'a.b' });
    const heads = client.db(dbName).collection<{ _id: string; v?: unknown }>('heads');
    const built = client.db(dbName).collection<{ _id: string; v?: unknown }>('built_slices');
    assert.equal((await heads.findOne({ _id: 'j0/j0-s1' }))?.v, HEAD_RECORD_FORMAT.current);
    assert.equal((await built.findOne({ _id: 's0' }))?.v, 1);
    await heads.updateOne({ _id: 'j0/j0-s1' }, { $unset: { v: '' } });
    await built.updateOne({ _id: 's0' }, { $unset: { v: '' } });
    assert.deepEqual((await registry.get('j0', 'j0-s1'))?.appliedTs, catalog.startTs);
    assert.deepEqual(await registry.setAppliedTs('j0', 'j0-s1', { t: 5, i: 9 }), { t: 5, i: 9 });
    assert.equal(await registry.mark('j0', 'j0-s1', 'completeAt'), true);
    assert.equal(await registry.isBuilt('s0'), true);
    assert.equal(await registry.countBuilt('j0', 'j0-s1', 'scan'), 1);
    await registry.markBuilt('s0', { jobId: 'j0', syncId: 'j0-s1', origin: 'scan', ns: 'a.b' });
    assert.equal((await built.findOne({ _id: 's0' }))?.v, 1, 'a replacement writes the current version');
  });

  it('refuses a head record of an unknown version in every read and every write, leaving it unchanged', async () => {
    const registry = new MongoHeadRegistry(client, dbName);
    await registry.init();
    const heads = client.db(dbName).collection<{ _id: string; v?: unknown }>('heads');
    const future = {
      _id: 'jf/jf-s1',
      v: 99,
      jobId: 'jf',
      syncId: 'jf-s1',
      position: { applied: new Timestamp({ t: 7, i: 0 }) },
    };
    await heads.insertOne(future);
    const refused = refusedAs('head record', `${dbName}.heads _id "jf/jf-s1"`, 99);
    await assert.rejects(registry.get('jf', 'jf-s1'), refused);
    await assert.rejects(registry.listForJob('jf'), refused);
    await assert.rejects(registry.setAppliedTs('jf', 'jf-s1', { t: 8, i: 0 }), refused);
    await assert.rejects(registry.mark('jf', 'jf-s1', 'completeAt'), refused);
    await assert.rejects(registry.recordScanCatalog('jf', 'jf-s1', 1, catalog), refused);
    await assert.rejects(registry.recordMissingCatalog('jf', 'jf-s1', []), refused);
    assert.deepEqual(await heads.findOne({ _id: 'jf/jf-s1' }), future, 'never written over');
  });

  it('refuses a built-slice mark of an unknown version', async () => {
    const registry = new MongoHeadRegistry(client, dbName);
    await registry.init();
    const built = client.db(dbName).collection<{ _id: string; v?: unknown }>('built_slices');
    const future = {
      _id: 'sf',
      v: 3,
      jobId: 'jf',
      syncId: 'jf-s1',
      origin: 'scan',
      ns: 'a.b',
      at: new Date(0),
    };
    await built.insertOne(future);
    const refused = refusedAs('built-slice mark', `${dbName}.built_slices _id "sf"`, 3);
    await assert.rejects(registry.isBuilt('sf'), refused);
    await assert.rejects(registry.countBuilt('jf', 'jf-s1', 'scan'), refused);
    await assert.rejects(
      registry.markBuilt('sf', { jobId: 'jf', syncId: 'jf-s1', origin: 'scan', ns: 'a.b' }),
      refused,
    );
    assert.deepEqual(await built.findOne({ _id: 'sf' }), future, 'never written over');
  });
});

describe('MongoHeadWriter on the backup-side server', () => {
  let client: MongoClient;
  const jobId = `w${Date.now().toString(36).slice(-7)}`;
  const headNs = `th_${jobId}_1_shop.orders`;
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await new MongoHeadWriter(client).dropHead(jobId, 1);
    await client.close();
  });

  it('inserts raw documents, ignores a redelivered slice, replaces fetched documents, creates indexes', async () => {
    const w = new MongoHeadWriter(client);
    await w.createCollection(headNs, EJSON.stringify({ uuid: 'ignored' }));
    await w.createCollection(headNs);
    // Values FerretDB stores faithfully: it refuses nested arrays, which the no-server test below covers, and on
    // PostgreSQL a string holding U+0000 (its jsonb cannot hold one; the README's fidelity section).
    const nulRefused = !process.env['BACKUP_MONGODB_URI'] && localFerretdbBackend('backup') === 'postgresql';
    const docs = [
      {
        _id: new ObjectId(),
        i: new Int32(7),
        l: new Long(2n ** 62n),
        d: new Double(1.5),
        s: nulRefused ? 'no nul on PostgreSQL' : 'nul\u0000in',
        nested: { a: [1, 2, { b: 'x' }] },
      },
      { _id: 2, z: 1, a: 2, dt: new Date(0), bin: new Binary(Buffer.from([1, 2, 3]), 0) },
    ].map((d) => Buffer.from(BSON.serialize(d)));
    await w.insertScanned(headNs, docs);
    await w.insertScanned(headNs, docs);
    const coll = client
      .db(`th_${jobId}_1_shop`)
      .collection<{ _id: number | ObjectId; [k: string]: unknown }>('orders');
    assert.equal(await coll.countDocuments(), 2);
    const raw = await coll.find({ _id: 2 }, { raw: true }).toArray();
    assert.ok(Buffer.from(raw[0] as unknown as Uint8Array).equals(docs[1]!), 'field order and types survive');
    await w.upsertFetched(headNs, [Buffer.from(BSON.serialize({ _id: 2, z: 9 }))]);
    assert.deepEqual(await coll.findOne({ _id: 2 }), { _id: 2, z: 9 });
    await w.createIndexes(
      headNs,
      EJSON.stringify([
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { z: 1 }, name: 'z_1', unique: true },
      ]),
    );
    await w.createIndexes(headNs, EJSON.stringify([{ v: 2, key: { z: 1 }, name: 'z_1', unique: true }]));
    const names = (await coll.listIndexes().toArray()).map((i) => i['name']).sort();
    assert.deepEqual(names, ['_id_', 'z_1']);
  });

  it('writes a slice of several insert commands in flight; a half-written slice again in full; capped in order', async () => {
    const w = new MongoHeadWriter(client, 3);
    const db = client.db(`th_${jobId}_1_shop`);
    // 4,500 documents: three insert commands of at most 2,000, in an order unlike their _ids.
    const ids = Array.from({ length: 4_500 }, (_, k) => (k * 7_919) % 4_500);
    const docs = ids.map((_id) => Buffer.from(BSON.serialize({ _id, pad: 'x'.repeat(100) })));
    const many = `th_${jobId}_1_shop.many`;
    await w.insertScanned(many, docs.slice(0, 2_600)); // a slice a crash interrupted after its first commands
    await w.insertScanned(many, docs);
    const stored = await db
      .collection<{ _id: number }>('many')
      .find({}, { projection: { _id: 1 } })
      .toArray();
    assert.equal(stored.length, 4_500);
    assert.deepEqual(
      stored.map((d) => d._id).sort((a, b) => a - b),
      [...ids].sort((a, b) => a - b),
    );
    // A capped collection's natural order is its insert order: one command at a time, in the slice's order.
    const cappedNs = `th_${jobId}_1_shop.ring`;
    await w.createCollection(cappedNs, EJSON.stringify({ capped: true, size: 8 * 1024 * 1024 }));
    await w.insertScanned(cappedNs, docs);
    const natural = await db
      .collection<{ _id: number }>('ring')
      .find({}, { projection: { _id: 1 }, sort: { $natural: 1 } })
      .toArray();
    assert.deepEqual(
      natural.map((d) => d._id),
      ids,
    );
  });
});

describe('raw BSON fidelity (no server)', () => {
  it('re-serializes every type MongoDB keeps, byte for byte', () => {
    const doc = {
      _id: new ObjectId(),
      dbl: new Double(-0),
      int: new Int32(-5),
      long: new Long(-(2n ** 63n)),
      dec: Decimal128.fromString('-1.000E-6176'),
      min: new MinKey(),
      max: new MaxKey(),
      ts: new Timestamp({ t: 4294967295, i: 1 }),
      re: new BSONRegExp('a.c', 'imsx'),
      bin: new Binary(Buffer.from('abc'), 4),
      arr: [[[]], [{ x: [new Int32(1)] }]],
      str: 'a\u0000b',
      order: { z: 1, a: 2, m: 3 },
    };
    const raw = Buffer.from(BSON.serialize(doc));
    assert.ok(Buffer.from(BSON.serialize(fromRawBson(raw, 't.c'))).equals(raw));
  });

  it('refuses a document the driver would rewrite (BSON undefined)', () => {
    // { _id: 1, u: undefined(0x06) } written by hand.
    const body = Buffer.concat([
      Buffer.from([0x10]),
      Buffer.from('_id\0'),
      Buffer.from([1, 0, 0, 0]),
      Buffer.from([0x06]),
      Buffer.from('u\0'),
      Buffer.from([0]),
    ]);
    const raw = Buffer.concat([Buffer.alloc(4), body]);
    raw.writeInt32LE(raw.length, 0);
    assert.throws(() => fromRawBson(raw, 't.c'), BsonFidelityError);
  });
});
