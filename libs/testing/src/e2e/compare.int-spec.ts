/**
 * `compareHeads` against the real servers: a collection on the source server and its copy on the backup server.
 * FerretDB 1.24 lists only `v`, `key`, `name` and `unique` (it refuses TTL, partial, collation, hidden and wildcard
 * options, and accepts `sparse` without listing it), so here a differing option is `unique`; every other option is
 * covered by `compare.spec.ts` on specs in MongoDB's `listIndexes` format, and by this suite on MongoDB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { uniqueDbName } from '../names';
import { compareHeads } from './compare';

describe('compareHeads on the source and backup servers', () => {
  const endpoints = resolveEndpoints();
  const sourceDb = uniqueDbName('cmp_src');
  const headDb = uniqueDbName('cmp_head');
  let source: MongoClient;
  let backup: MongoClient;

  const docs = [
    { _id: 1, oid: 'a', n: 1 },
    { _id: 2, oid: 'b', n: 2 },
  ];

  async function collection(client: MongoClient, ns: string, unique: boolean): Promise<void> {
    const dot = ns.indexOf('.');
    const target = client.db(ns.slice(0, dot)).collection<{ _id: number }>(ns.slice(dot + 1));
    await target.insertMany(docs);
    await target.createIndex({ n: 1 }, { name: 'n_1' });
    await target.createIndex({ oid: 1 }, { name: 'oid_1', ...(unique ? { unique } : {}) });
  }

  before(async () => {
    source = await new MongoClient(endpoints.source.uri).connect();
    backup = await new MongoClient(endpoints.backup.uri).connect();
    await collection(source, `${sourceDb}.orders`, true);
    await collection(backup, `${headDb}.orders`, true);
    await collection(backup, `${headDb}.orders_not_unique`, false);
  });

  after(async () => {
    await source?.db(sourceDb).dropDatabase();
    await backup?.db(headDb).dropDatabase();
    await source?.close();
    await backup?.close();
  });

  it('finds a copy with the same documents and indexes equal', async () => {
    assert.deepEqual(await compareHeads(source, backup, { [`${sourceDb}.orders`]: `${headDb}.orders` }), []);
  });

  it('reports an index whose unique option was lost', async () => {
    const problems = await compareHeads(source, backup, {
      [`${sourceDb}.orders`]: `${headDb}.orders_not_unique`,
    });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /index oid_1 differs: source .*"unique":true.* \/ head /);
  });

  it('rejects when an index listing fails instead of comparing it equal', async () => {
    // Neither side has this collection: both scans are empty, and listIndexes answers NamespaceNotFound.
    await assert.rejects(
      compareHeads(source, backup, { [`${sourceDb}.absent`]: `${headDb}.absent` }),
      /listIndexes of .*\.absent failed: .*does not exist/,
    );
  });
});
