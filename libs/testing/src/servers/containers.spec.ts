import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, resolveEndpoints } from '@tidemark/config';
import {
  CONTAINER_IMAGE_ENV,
  containerEndpointEnv,
  containerImages,
  ContainersUnavailableError,
  kafkaContainerEnv,
  kafkaImageVariable,
  replicaSetUri,
} from './containers';
import { KAFKA_BROKER_SETTINGS } from './kafka';

describe('the testcontainers path', () => {
  it('refuses to start without a MongoDB image named by the user, and says which variable and why', () => {
    for (const value of [undefined, '', '   ']) {
      assert.throws(
        () => containerImages({ [CONTAINER_IMAGE_ENV.mongodb]: value }),
        (err: unknown) =>
          err instanceof ContainersUnavailableError &&
          err.message.includes(CONTAINER_IMAGE_ENV.mongodb) &&
          err.message.includes('SSPL'),
      );
    }
  });

  it('runs the Apache Kafka and moto images of the local servers unless told otherwise', () => {
    assert.deepEqual(containerImages({ [CONTAINER_IMAGE_ENV.mongodb]: 'mongo:8.0' }), {
      mongodb: 'mongo:8.0',
      kafka: 'apache/kafka:3.9.1',
      s3: 'motoserver/moto:5.2.5',
    });
    const images = containerImages({
      [CONTAINER_IMAGE_ENV.mongodb]: ' registry.local/mongo:7.0 ',
      [CONTAINER_IMAGE_ENV.kafka]: 'registry.local/kafka:3.9.1',
      [CONTAINER_IMAGE_ENV.s3]: 'registry.local/moto:5',
    });
    assert.deepEqual(images, {
      mongodb: 'registry.local/mongo:7.0',
      kafka: 'registry.local/kafka:3.9.1',
      s3: 'registry.local/moto:5',
    });
  });

  it('names broker settings as the apache/kafka image reads them', () => {
    assert.equal(kafkaImageVariable('message.max.bytes'), 'KAFKA_MESSAGE_MAX_BYTES');
    assert.equal(kafkaImageVariable('a_b.c-d'), 'KAFKA_A__B_C___D');
  });

  it('configures the Kafka container like the local broker, advertising the address the host reaches', () => {
    const env = kafkaContainerEnv('localhost', 24567);
    assert.equal(env['KAFKA_ADVERTISED_LISTENERS'], 'PLAINTEXT://localhost:24567');
    assert.match(env['KAFKA_LISTENERS']!, /^PLAINTEXT:\/\/0\.0\.0\.0:24567,/);
    assert.equal(env['KAFKA_PROCESS_ROLES'], 'broker,controller');
    for (const [setting, value] of Object.entries(KAFKA_BROKER_SETTINGS)) {
      assert.equal(env[kafkaImageVariable(setting)], value, setting);
    }
    assert.equal(env['KAFKA_AUTO_CREATE_TOPICS_ENABLE'], 'false');
  });

  it('hands the endpoints over as the variables every command resolves', () => {
    const vars = containerEndpointEnv({
      kafka: 'localhost:24001',
      source: replicaSetUri('localhost', 24002),
      backup: replicaSetUri('localhost', 24003),
      s3: 'http://localhost:24004',
    });
    const e = resolveEndpoints({ ...vars, [ENV.home]: '/nonexistent' });
    assert.deepEqual(e.kafka.brokers, ['localhost:24001']);
    assert.equal(e.source.uri, 'mongodb://localhost:24002/?directConnection=true');
    assert.equal(e.backup.uri, 'mongodb://localhost:24003/?directConnection=true');
    assert.equal(e.s3.endpoint, 'http://localhost:24004');
    assert.equal(e.s3.bucket, 'tidemark-snapshots');
    assert.equal(e.s3.forcePathStyle, true);
  });
});
