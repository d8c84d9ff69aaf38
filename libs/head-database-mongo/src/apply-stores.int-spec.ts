// The store conformance suites live with the ports in @tidemark/apply (a feature library); the tsconfig path
// `@tidemark/head-database-contract` points at that one file, which only specs load.
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { uniqueDbName } from '@tidemark/testing';
import { describeLeaseStore, describeMissingDocumentStore } from '@tidemark/head-database-contract';
import { MongoLeaseStore } from './mongo-lease-store';
import { MongoMissingDocumentStore } from './mongo-missing-document-store';

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
