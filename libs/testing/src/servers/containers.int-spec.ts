/**
 * The testcontainers path against whatever this machine has. Without a Docker daemon (this project's CI), starting
 * the containers must fail at once with an error that says so. With one, and a MongoDB image named by the user,
 * the four servers start and each answers: Kafka takes a topic and a message, both MongoDB servers are writable
 * replica-set primaries, and the S3 bucket takes an object.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import {
  CONTAINER_IMAGE_ENV,
  containerHost,
  ContainersUnavailableError,
  startContainers,
} from './containers';

async function dockerAnswers(): Promise<boolean> {
  try {
    await containerHost();
    return true;
  } catch (err) {
    if (err instanceof ContainersUnavailableError) return false;
    throw err;
  }
}

describe('the testcontainers path', () => {
  it('without a Docker daemon, refuses at once and says a daemon is needed', async (t) => {
    if (await dockerAnswers()) {
      t.skip('a Docker daemon answers here');
      return;
    }
    const t0 = Date.now();
    await assert.rejects(
      startContainers(() => undefined, { [CONTAINER_IMAGE_ENV.mongodb]: 'mongo:8.0' }),
      (err: unknown) => err instanceof ContainersUnavailableError && /Docker daemon/.test(err.message),
    );
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms to refuse`);
  });

  it('with a Docker daemon and a MongoDB image, starts the four servers and each answers', async (t) => {
    if (!(await dockerAnswers())) {
      t.skip('no Docker daemon answers here (the local-process servers are the path exercised)');
      return;
    }
    if (!process.env[CONTAINER_IMAGE_ENV.mongodb]) {
      t.skip(`${CONTAINER_IMAGE_ENV.mongodb} is not set (MongoDB's SSPL image is the user's to choose)`);
      return;
    }
    const started = await startContainers((m) => t.diagnostic(m));
    try {
      const e = resolveEndpoints(started.env);
      const kafka = new Kafka({
        clientId: 'containers-spec',
        brokers: e.kafka.brokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: 'containers-spec', numPartitions: 1 }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'containers-spec', messages: [{ value: 'hello' }] });
      await producer.disconnect();

      for (const uri of [e.source.uri, e.backup.uri]) {
        const client = await new MongoClient(uri).connect();
        try {
          const hello = await client.db('admin').command({ hello: 1 });
          assert.equal(hello['setName'], 'rs0');
          assert.equal(hello['isWritablePrimary'], true);
          await client
            .db('containers_spec')
            .collection('c')
            .insertOne({ _id: 1 } as never);
          const oplog = await client.db('local').collection('oplog.rs').findOne({ ns: 'containers_spec.c' });
          assert.ok(oplog, 'the insert is in the oplog');
        } finally {
          await client.close();
        }
      }

      const s3 = new S3Client({
        endpoint: e.s3.endpoint,
        region: e.s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: e.s3.accessKeyId!, secretAccessKey: e.s3.secretAccessKey! },
      });
      try {
        await s3.send(new PutObjectCommand({ Bucket: e.s3.bucket, Key: 'k', Body: 'v' }));
        const got = await s3.send(new GetObjectCommand({ Bucket: e.s3.bucket, Key: 'k' }));
        assert.equal(await got.Body!.transformToString(), 'v');
      } finally {
        s3.destroy();
      }
    } finally {
      await started.stop();
    }
  });
});
