import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveListenAddress } from './listen-address';
import { loadServiceConfig, ServiceConfigError } from './service-config';
import { DEFAULT_PORTS, SERVICE_NAMES } from './service-name';

const base: NodeJS.ProcessEnv = {
  KAFKA_BROKERS: 'k1:9092, k2:9092',
  SOURCE_MONGODB_URI: 'mongodb://source',
  BACKUP_MONGODB_URI: 'mongodb://backup',
  S3_BUCKET: 'snapshots',
  TIDEMARK_HOME: '/nonexistent-tidemark-home',
};

describe('loadServiceConfig', () => {
  it('uses the defaults: no topic prefix, tidemark_meta, group tidemark-<service>', () => {
    const c = loadServiceConfig('job-state', base);
    assert.deepEqual(c.endpoints.kafka.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(c.topicPrefix, '');
    assert.equal(c.topics.phases.name, 'tidemark.phases');
    assert.equal(c.metaDb, 'tidemark_meta');
    assert.equal(c.consumerGroup, 'tidemark-job-state');
    assert.equal(c.kafkaClientId, 'tidemark-job-state');
    assert.equal(c.readyTimeoutMs, 3_000);
  });

  it('applies TIDEMARK_TOPIC_PREFIX to topics and the consumer group, and TIDEMARK_META_DB', () => {
    const c = loadServiceConfig('agent', {
      ...base,
      TIDEMARK_TOPIC_PREFIX: 'it-1',
      TIDEMARK_META_DB: 'meta_it_1',
    });
    assert.equal(c.topics.slicesOplog.name, 'it-1.tidemark.slices.oplog');
    assert.equal(c.consumerGroup, 'it-1.tidemark-agent');
    assert.equal(c.metaDb, 'meta_it_1');
  });

  it('rejects a bad database name or timeout, naming the variable', () => {
    assert.throws(() => loadServiceConfig('agent', { ...base, TIDEMARK_META_DB: 'a.b' }), /TIDEMARK_META_DB/);
    assert.throws(
      () => loadServiceConfig('agent', { ...base, TIDEMARK_READY_TIMEOUT_MS: 'soon' }),
      (e: unknown) => e instanceof ServiceConfigError && /TIDEMARK_READY_TIMEOUT_MS/.test(e.message),
    );
  });
});

describe('resolveListenAddress', () => {
  it('defaults to loopback and the service port', () => {
    assert.deepEqual(resolveListenAddress('snapshotter', {}), { host: '127.0.0.1', port: 7105 });
  });

  it('takes HOST and PORT (0 = any free port) from the environment', () => {
    assert.deepEqual(resolveListenAddress('agent', { HOST: '0.0.0.0', PORT: '0' }), {
      host: '0.0.0.0',
      port: 0,
    });
    assert.throws(() => resolveListenAddress('agent', { PORT: '70000' }), /PORT/);
  });

  it('gives every service its own default port', () => {
    const ports = SERVICE_NAMES.map((n) => DEFAULT_PORTS[n]);
    assert.equal(new Set(ports).size, SERVICE_NAMES.length);
    assert.equal(DEFAULT_PORTS['job-state'], 7100);
  });
});
