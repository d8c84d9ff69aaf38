/**
 * The applied position against concurrent writes to the same head record, on the real backup-side server: while other
 * clients `$set` other fields of the record (the missing catalog, as the head-builder does), the position is moved
 * forward step by step and must never be reported or left behind. FerretDB 1.24 rewrites the whole document on every
 * update, so when the position lived in the head record a concurrent `$set` wrote an older one back (two CI runs
 * failed on it: an apply turn with "position did not advance", then a snapshot labelled with an older position than
 * its data); it now lives in a document of its own (`head_positions`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { compareOpTime, type OpTime } from '@tidemark/domain';
import { uniqueDbName } from '@tidemark/testing';
import { MongoHeadRegistry } from './mongo-head-registry';

describe('MongoHeadRegistry.setAppliedTs under concurrent writes to the head record', () => {
  let clients: MongoClient[] = [];
  const dbName = uniqueDbName('t_race');

  before(async () => {
    clients = await Promise.all(
      [0, 1, 2].map(() => new MongoClient(resolveEndpoints().backup.uri, { maxPoolSize: 4 }).connect()),
    );
  });
  after(async () => {
    await clients[0]?.db(dbName).dropDatabase();
    await Promise.all(clients.map((c) => c.close()));
  });

  it('moves forward 200 times while two writers rewrite the record, never reported behind', async () => {
    const [applier, ...others] = clients.map((c) => new MongoHeadRegistry(c, dbName));
    await applier!.init();
    const start: OpTime = { t: 1_800_000_000, i: 0 };
    await applier!.recordScanCatalog('j1', 'j1-s1', 1, { startTs: start, endTs: start, namespaces: [] });
    let done = false;
    let writes = 0;
    const writers = others.map(async (r, k) => {
      while (!done) {
        await r!.recordMissingCatalog('j1', 'j1-s1', [
          { ns: `db.c${k}`, sliceCount: writes, docCount: writes },
        ]);
        writes++;
      }
    });
    try {
      for (let i = 1; i <= 200; i++) {
        const ts = { t: start.t, i };
        const stored = await applier!.setAppliedTs('j1', 'j1-s1', ts);
        assert.ok(
          compareOpTime(stored, ts) >= 0,
          `stored ${stored.t}:${stored.i} after setting ${ts.t}:${ts.i}`,
        );
      }
    } finally {
      done = true;
      await Promise.all(writers);
    }
    // The position lives in a document of its own: no rewrite of the head record can put an older one back later.
    assert.deepEqual((await applier!.get('j1', 'j1-s1'))?.appliedTs, { t: start.t, i: 200 });
    console.log(`${writes} concurrent writes to the head record`);
  });
});
