// The store conformance suites live with the ports in @tidemark/apply (a feature library); the tsconfig path
// `@tidemark/head-database-contract` points at that one file, which only specs load.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, Timestamp } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { uniqueDbName } from '@tidemark/testing';
import { describeLeaseStore, describeMissingDocumentStore } from '@tidemark/head-database-contract';
import { LEASE_FORMAT, MongoLeaseStore } from './mongo-lease-store';
import { MISSING_DOCUMENT_FORMAT, MongoMissingDocumentStore } from './mongo-missing-document-store';

let client: MongoClient | undefined;
async function connect(): Promise<MongoClient> {
  client ??= await new MongoClient(resolveEndpoints().backup.uri).connect();
  return client;
}
after(async () => {
  await client?.close();
});

describeLeaseStore('MongoLeaseStore on the backup-side server', async () => {
  const c = await connect();
  const db = uniqueDbName('t_lease');
  return { store: new MongoLeaseStore(c, db), dispose: async () => void (await c.db(db).dropDatabase()) };
});

describeMissingDocumentStore('MongoMissingDocumentStore on the backup-side server', async () => {
  const c = await connect();
  const db = uniqueDbName('t_missing');
  const store = new MongoMissingDocumentStore(c, db);
  await store.init();
  return { store, dispose: async () => void (await c.db(db).dropDatabase()) };
});

describe('apply stores: format versions', () => {
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

  it('leases: writes v: 1, reads a lease without v, and never takes over, renews or releases an unknown version', async () => {
    const c = await connect();
    const db = uniqueDbName('t_lease_v');
    const leases = c.db(db).collection<Record<string, unknown> & { _id: string }>('leases');
    const store = new MongoLeaseStore(c, db);
    try {
      assert.ok(await store.acquire('apply:j0', 'me', 60_000));
      assert.equal((await leases.findOne({ _id: 'apply:j0' }))?.['v'], LEASE_FORMAT.current);
      await leases.updateOne({ _id: 'apply:j0' }, { $unset: { v: '' } });
      assert.ok(await store.renew('apply:j0', 'me', 60_000), 'a lease without v is version 1');

      // Expired and owned by "me": only its version keeps this build from taking it over.
      const future = { _id: 'apply:jf', v: 2, owner: 'me', expiresAt: new Date(0), holder: { id: 'me' } };
      await leases.insertOne(future);
      const refused = refusedAs('apply lease', `${db}.leases _id "apply:jf"`, 2);
      await assert.rejects(store.acquire('apply:jf', 'me', 60_000), refused);
      await assert.rejects(store.acquire('apply:jf', 'other', 60_000), refused);
      await assert.rejects(store.renew('apply:jf', 'me', 60_000), refused);
      await assert.rejects(store.release('apply:jf', 'me'), refused);
      assert.deepEqual(await leases.findOne({ _id: 'apply:jf' }), future, 'never written over');
    } finally {
      await c.db(db).dropDatabase();
    }
  });

  it('missing documents: refuses a document of an unknown version in every read and never rewrites it', async () => {
    const c = await connect();
    const db = uniqueDbName('t_missing_v');
    const docs = c
      .db(db)
      .collection<{ _id: { jobId: string; syncId: string; ns: string; id: string }; [k: string]: unknown }>(
        'missing_documents',
      );
    const store = new MongoMissingDocumentStore(c, db);
    await store.init();
    try {
      const record = { sourceNs: 'a.b', targetNs: 'h.b', id: '{"$numberInt":"1"}', ts: { t: 5, i: 1 } };
      await store.record('j0', 'j0-s1', [record]);
      assert.equal((await docs.findOne({ jobId: 'j0' }))?.['v'], MISSING_DOCUMENT_FORMAT.current);
      await docs.updateMany({}, { $unset: { v: '' } });
      assert.equal(await store.count('j0', 'j0-s1'), 1, 'a document without v is version 1');

      const id = { jobId: 'jf', syncId: 'jf-s1', ns: 'a.b', id: '{"$numberInt":"2"}' };
      const future = { _id: id, v: 7, ...id, target: { ns: 'h.b' }, ts: new Timestamp({ t: 6, i: 1 }) };
      await docs.insertOne(future);
      const refused = refusedAs(
        'missing-document record',
        `${db}.missing_documents _id ${JSON.stringify(id)}`,
        7,
      );
      await assert.rejects(store.count('jf', 'jf-s1'), refused);
      await assert.rejects(store.namespaces('jf', 'jf-s1'), refused);
      await assert.rejects(async () => {
        for await (const _ of store.ids('jf', 'jf-s1', 'a.b')) void _;
      }, refused);
      await assert.rejects(
        store.record('jf', 'jf-s1', [{ sourceNs: 'a.b', targetNs: 'h.b', id: id.id, ts: { t: 9, i: 9 } }]),
        refused,
      );
      assert.deepEqual(await docs.findOne({ _id: id }), future, 'never written over');
    } finally {
      await c.db(db).dropDatabase();
    }
  });
});
