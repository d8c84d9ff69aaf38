import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { uniqueDbName } from '@tidemark/testing';
import { MongoOplogStore } from './mongo-oplog-store';
import { describeOplogStore } from './oplog-store.contract';

describeOplogStore('MongoDB (backup side)', async () => {
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  const dbName = uniqueDbName('t_oplogstore');
  const store = new MongoOplogStore(client, dbName);
  await store.init();
  return {
    store,
    close: async () => {
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  };
});
