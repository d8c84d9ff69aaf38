/** The mount registry and the scratch admin on the real backup-side server; expired mounts are reaped, others kept. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { mountDatabaseName, reapMounts, unmount, type MountRecord } from '@tidemark/restore';
import { MongoMountRegistry, MongoScratchAdmin } from './mongo-mounts';

describe('MongoMountRegistry and MongoScratchAdmin', () => {
  let client: MongoClient;
  const metaDb = `mounts_it_${randomBytes(3).toString('hex')}`;

  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await client.db(metaDb).dropDatabase();
    await client.close();
  });

  const mount = async (mountId: string, expiresAt: Date): Promise<MountRecord> => {
    const db = mountDatabaseName(mountId, 'shop');
    await client
      .db(db)
      .collection('orders')
      .insertOne({ _id: 1 } as never);
    return {
      mountId,
      jobId: 'j1',
      snapshotId: 's1',
      databases: { shop: db },
      createdAt: new Date(0),
      expiresAt,
    };
  };
  const databases = async () =>
    (await client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);

  it('records mounts, reaps the expired ones (databases and record) and unmounts on request', async () => {
    const registry = new MongoMountRegistry(client, metaDb);
    const admin = new MongoScratchAdmin(client);
    const [old, fresh] = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')];
    await registry.put(await mount(old, new Date(1000)));
    await registry.put(await mount(fresh, new Date(Date.now() + 3_600_000)));
    assert.deepEqual((await registry.get(old))?.databases, { shop: mountDatabaseName(old, 'shop') });
    assert.equal((await registry.list()).length, 2);

    assert.deepEqual(await reapMounts(registry, admin, new Date()), [old]);
    assert.equal(await registry.get(old), undefined);
    const names = await databases();
    assert.ok(!names.includes(mountDatabaseName(old, 'shop')), 'the expired mount was dropped');
    assert.ok(names.includes(mountDatabaseName(fresh, 'shop')), 'the live mount stays');

    assert.equal(await unmount(registry, admin, fresh), true);
    assert.equal(await unmount(registry, admin, fresh), false);
    assert.ok(!(await databases()).includes(mountDatabaseName(fresh, 'shop')));
  });

  it('answers a read-only user either created or refused with the server reason', async () => {
    const admin = new MongoScratchAdmin(client);
    const user = `tm_mount_it${randomBytes(3).toString('hex')}`;
    const refused = await admin.createReadUser(user, randomBytes(9).toString('hex'), ['tm_mount_x_shop']);
    console.log(refused === undefined ? 'read-only user created' : `refused: ${refused}`);
    if (refused === undefined) await admin.dropUser(user);
    else assert.ok(refused.length > 0);
    await admin.dropUser(user); // absent: not an error
  });
});
