/**
 * The Kafka clients' SASL settings against a real broker: SCRAM-SHA-256 and SCRAM-SHA-512, each configured through
 * the environment variables a service reads (`kafkaSecurityFromEnv`), create a topic, publish a record and read it
 * back; a wrong password is refused as a fatal authentication error (never retried); a client without SASL gets
 * nothing from the SASL listener.
 *
 * Which broker: the local broker's SASL_PLAINTEXT listener and SCRAM test user as `infra up` recorded them
 * (`infra.json`, `kafka.sasl`: 127.0.0.1:`TIDEMARK_KAFKA_SASL_PORT`); or, when `KAFKA_BROKERS` names an external
 * broker, that broker with the `TIDEMARK_KAFKA_SASL_*` settings of the environment (a SCRAM mechanism). Skipped,
 * with the reason, only when the broker under test has no SCRAM listener configured: an external broker without
 * SCRAM settings, or a local broker started before the listener existed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ENV, readInfraState } from '@tidemark/config';
import { deleteTopics, ensureTopics } from './admin';
import { toKafkaOperationError } from './errors';
import { consumerFor, createKafka, producerFor, publish } from './kafka';
import { kafkaSecurityFromEnv, PLAINTEXT, type KafkaSaslMechanism } from './kafka-security';
import { resolveTopics } from './topics';
import type { AlertRaised } from './types';

interface ScramTarget {
  readonly brokers: string[];
  readonly mechanisms: KafkaSaslMechanism[];
  readonly username: string;
  readonly password: string;
  readonly where: string;
}

function scramTarget(env: NodeJS.ProcessEnv): ScramTarget | string {
  const external = env[ENV.kafkaBrokers];
  if (external !== undefined && external !== '') {
    const { sasl } = kafkaSecurityFromEnv(env);
    if (sasl === undefined || sasl.mechanism === 'PLAIN')
      return `KAFKA_BROKERS names an external broker and the environment gives no SCRAM settings (TIDEMARK_KAFKA_SASL_MECHANISM=SCRAM-SHA-256|512, _USERNAME, _PASSWORD)`;
    return {
      brokers: external.split(',').map((b) => b.trim()),
      mechanisms: [sasl.mechanism],
      username: sasl.username,
      password: sasl.password,
      where: `KAFKA_BROKERS (${external})`,
    };
  }
  const sasl = readInfraState(env)?.kafka.sasl;
  if (sasl === undefined)
    return 'the local broker was started without the SCRAM listener (infra.json has no kafka.sasl); `tidemark infra down && tidemark infra up` adds it';
  return {
    brokers: sasl.brokers,
    mechanisms: sasl.mechanisms as KafkaSaslMechanism[],
    username: sasl.username,
    password: sasl.password,
    where: `the local SASL_PLAINTEXT listener (${sasl.brokers.join(',')})`,
  };
}

const target = scramTarget(process.env);
const skip = typeof target === 'string' ? target : false;
const prefix = `it-kafka-sasl-${randomBytes(4).toString('hex')}`;

/** A client of `target` configured the way a service is: from TIDEMARK_KAFKA_SASL_* variables. */
function scramClient(t: ScramTarget, mechanism: KafkaSaslMechanism, password = t.password): Kafka {
  const security = kafkaSecurityFromEnv({
    TIDEMARK_KAFKA_SASL_MECHANISM: mechanism,
    TIDEMARK_KAFKA_SASL_USERNAME: t.username,
    TIDEMARK_KAFKA_SASL_PASSWORD: password,
  });
  return createKafka({
    brokers: t.brokers,
    clientId: `${prefix}-${mechanism.toLowerCase()}`,
    security,
    // A wrong password is not retried anyway (fatal); a right one must be allowed the idempotent producer's retries.
  });
}

describe(`Kafka SASL/SCRAM (${typeof target === 'string' ? 'skipped' : target.where})`, { skip }, () => {
  const t = target as ScramTarget;
  const created: string[] = [];

  after(async () => {
    if (created.length > 0) await deleteTopics(scramClient(t, t.mechanisms[0]!), created);
  });

  for (const mechanism of t.mechanisms ?? []) {
    it(`${mechanism}: creates a topic, publishes a record and reads it back`, async () => {
      const kafka = scramClient(t, mechanism);
      const topic = resolveTopics({ prefix: `${prefix}-${mechanism.toLowerCase()}`, env: {} }).alerts;
      await ensureTopics(kafka, [topic]);
      created.push(topic.name);
      const producer = producerFor(kafka);
      await producer.connect();
      const alert: AlertRaised = {
        alertId: `sasl-${mechanism}`,
        jobId: null,
        severity: 'INFO',
        code: 'SASL_CHECK',
        message: `sent over ${mechanism}`,
        context: {},
        at: new Date(),
        state: null,
        subject: null,
        closedAt: null,
        closeReason: null,
      };
      try {
        await publish(producer, topic, alert);
      } finally {
        await producer.disconnect();
      }
      const consumer = consumerFor(kafka, {
        groupId: `${prefix}-${mechanism.toLowerCase()}`,
        topics: [topic],
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
        const value = await new Promise<Buffer | null>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`nothing read back over ${mechanism}`)), 30_000);
          consumer
            .run({
              eachMessage: async ({ message }) => {
                clearTimeout(timer);
                resolve(message.value);
              },
            })
            .catch(reject);
        });
        assert.match(value?.toString('latin1') ?? '', new RegExp(`sent over ${mechanism}`));
      } finally {
        await consumer.disconnect();
      }
    });
  }

  it('refuses a wrong password as a fatal authentication error, never echoing it', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const admin = scramClient(t, t.mechanisms[0]!, wrong).admin();
    const err = await admin.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await admin.disconnect().catch(() => undefined);
    assert.ok(err instanceof Error, 'the connection was refused');
    assert.equal(err.name, 'KafkaJSSASLAuthenticationError', String(err));
    const classified = toKafkaOperationError(err, 'connect', '');
    assert.equal((classified as { retriable?: boolean }).retriable, false, 'authentication is never retried');
    assert.doesNotMatch(String(err.message), new RegExp(wrong));
  });

  it('gives a client without SASL nothing on the SASL listener', async () => {
    const admin = createKafka({
      brokers: t.brokers,
      clientId: `${prefix}-plain`,
      security: PLAINTEXT,
      connectionTimeout: 2_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
    }).admin();
    await assert.rejects(admin.listTopics());
    await admin.disconnect().catch(() => undefined);
  });
});
