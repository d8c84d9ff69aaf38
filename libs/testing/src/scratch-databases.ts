/**
 * Databases of a spec's own on the backup-side server (`resolveEndpoints().backup.uri` unless told another): one
 * client for the spec, a new uniquely named database for each `create()`, all of them dropped by `close()`.
 *
 *     const scratch = scratchDatabases('t_alerts');
 *     before(() => scratch.open());
 *     after(() => scratch.close());
 *     // in a test: new MongoAlertStore(scratch.client, scratch.create(), classifyMongoError)
 */
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { uniqueDbName } from './names';

export interface ScratchDatabases {
  /** The spec's client, connected by `open()`. */
  readonly client: MongoClient;
  /** The database the last `create()` named. */
  readonly last: string;
  /** Connects the client. */
  open(): Promise<void>;
  /** A new database name of its own (`uniqueDbName(prefix)`), dropped by `close()`. */
  create(): string;
  /** Drops every database `create()` named, then closes the client. */
  close(): Promise<void>;
}

export function scratchDatabases(prefix: string, uri?: string): ScratchDatabases {
  let client: MongoClient | undefined;
  const databases: string[] = [];
  return {
    get client() {
      if (client === undefined) throw new Error(`scratch databases ${prefix}: open() first`);
      return client;
    },
    get last() {
      const db = databases.at(-1);
      if (db === undefined) throw new Error(`scratch databases ${prefix}: create() first`);
      return db;
    },
    async open() {
      client = await new MongoClient(uri ?? resolveEndpoints().backup.uri).connect();
    },
    create() {
      const db = uniqueDbName(prefix);
      databases.push(db);
      return db;
    },
    async close() {
      if (client === undefined) return;
      for (const db of databases) await client.db(db).dropDatabase();
      await client.close();
    },
  };
}
