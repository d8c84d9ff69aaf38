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
import { uniqueDbName } from '@tidemark/testing';
import { describeHeadRegistry } from '@tidemark/head-database-contract';
import { MongoHeadRegistry } from './mongo-head-registry';
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
    // Values FerretDB stores faithfully: it refuses nested arrays, which the no-server test below covers.
    const docs = [
      {
        _id: new ObjectId(),
        i: new Int32(7),
        l: new Long(2n ** 62n),
        d: new Double(1.5),
        s: 'nul\u0000in',
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
