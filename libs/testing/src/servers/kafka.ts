/**
 * Apache Kafka, single-node KRaft (broker + controller in one JVM), from Maven Central jars, run with the
 * machine's Java 17. Auto topic creation is off: topics are created by the project (libs/bus topics.ts).
 *
 * Listeners, all on 127.0.0.1: PLAINTEXT (`TIDEMARK_KAFKA_PORT`, what every service and spec uses), the KRaft
 * CONTROLLER, and SASL_PLAINTEXT (`TIDEMARK_KAFKA_SASL_PORT`) with SCRAM-SHA-256 and SCRAM-SHA-512 for the specs
 * of the clients' SASL settings. Its user ({@link KAFKA_TEST_SCRAM}) is created when the data directory is
 * formatted (`StorageTool format --add-scram`, no extra start-up time); a data directory formatted before the
 * listener existed gets it once, after the broker is up, with `ConfigCommand` ({@link ensureKafkaScramUser}).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { InfraState } from '@tidemark/config';
import type { Layout } from './layout';
import { run, startDetached, waitFor, type StartedProcess } from './process';
import { SERVER_VERSIONS } from './versions';

/** The broker settings every Kafka the project starts shares (local process or container), listeners aside. */
export const KAFKA_BROKER_SETTINGS: Readonly<Record<string, string>> = {
  // Topics are declared and created by Tidemark itself, with their partitions and message sizes.
  'auto.create.topics.enable': 'false',
  'offsets.topic.replication.factor': '1',
  'offsets.topic.num.partitions': '6',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'group.initial.rebalance.delay.ms': '0',
  // Room for a 10 MiB slice plus headers; topics set their own max.message.bytes as well.
  'message.max.bytes': '16777216',
  'replica.fetch.max.bytes': '16777216',
  'socket.request.max.bytes': '104857600',
  'log.retention.hours': '24',
  'log.segment.bytes': '134217728',
  'num.partitions': '1',
};

/**
 * The SCRAM user of the local broker's SASL_PLAINTEXT listener: a test account on a loopback-only broker, like the
 * local S3 server's keys. Recorded in `infra.json` (`kafka.sasl`) for the specs that connect with SASL.
 */
export const KAFKA_TEST_SCRAM = Object.freeze({
  username: 'tidemark-test',
  password: 'tidemark-test-scram-secret',
  mechanisms: Object.freeze(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const),
});

/** Written into the data directory once {@link KAFKA_TEST_SCRAM} exists in the cluster's metadata. */
const SCRAM_MARKER = 'scram-user-created';

/** The `infra.json` record of the SASL listener a broker started with `p.saslPort` has. */
export function kafkaSaslState(saslPort: number): NonNullable<InfraState['kafka']['sasl']> {
  return {
    brokers: [`127.0.0.1:${saslPort}`],
    mechanisms: [...KAFKA_TEST_SCRAM.mechanisms],
    username: KAFKA_TEST_SCRAM.username,
    password: KAFKA_TEST_SCRAM.password,
  };
}

/** The listener lines of server.properties (a function so a spec can check them without starting a broker). */
export function kafkaListenerProperties(p: {
  port: number;
  controllerPort: number;
  saslPort: number;
}): string[] {
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `listeners=PLAINTEXT://127.0.0.1:${p.port},SASL_PLAINTEXT://127.0.0.1:${p.saslPort},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port},SASL_PLAINTEXT://127.0.0.1:${p.saslPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    `sasl.enabled.mechanisms=${KAFKA_TEST_SCRAM.mechanisms.join(',')}`,
    ...KAFKA_TEST_SCRAM.mechanisms.map(
      (m) => `listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config=${jaas}`,
    ),
  ];
}

export function kafkaLibDir(l: Layout): string {
  return path.join(l.cache, `kafka-${SERVER_VERSIONS.kafka}`, 'libs');
}

/** Fetches the broker's jars (and their dependencies) with Maven into the cache, once. */
export async function ensureKafkaJars(l: Layout, log: (m: string) => void): Promise<string> {
  const libs = kafkaLibDir(l);
  const done = path.join(libs, '.complete');
  if (fs.existsSync(done)) return libs;
  log(`fetching Kafka ${SERVER_VERSIONS.kafka} jars from Maven Central (first run only)`);
  const pom = path.join(l.root, 'tools', 'infra', 'kafka', 'pom.xml');
  fs.rmSync(libs, { recursive: true, force: true });
  await run('kafka jars', 'mvn', [
    '-q',
    '-B',
    '-f',
    pom,
    `-Dmaven.repo.local=${path.join(l.cache, 'm2')}`,
    `-Dkafka.version=${SERVER_VERSIONS.kafka}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${libs}`,
    '-DincludeScope=runtime',
  ]);
  fs.writeFileSync(done, new Date().toISOString());
  return libs;
}

export async function startKafka(
  l: Layout,
  p: { port: number; controllerPort: number; saslPort: number },
): Promise<StartedProcess> {
  const libs = kafkaLibDir(l);
  const dir = path.join(l.data, 'kafka');
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir, { recursive: true });
  const props = path.join(dir, 'server.properties');
  fs.writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
      ...kafkaListenerProperties(p),
      `log.dirs=${logDir}`,
      ...Object.entries(KAFKA_BROKER_SETTINGS).map(([name, value]) => `${name}=${value}`),
      '',
    ].join('\n'),
  );
  const log4j = path.join(dir, 'log4j.properties');
  fs.writeFileSync(
    log4j,
    [
      'log4j.rootLogger=WARN, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaRaftServer=INFO',
      '',
    ].join('\n'),
  );
  const classpath = `${libs}/*`;
  const jvm = kafkaJvm(log4j);
  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    const clusterId = newClusterId();
    const { username, password, mechanisms } = KAFKA_TEST_SCRAM;
    await run('kafka storage format', 'java', [
      ...jvm,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId}`,
      '-c',
      props,
      ...mechanisms.flatMap((m) => ['--add-scram', `${m}=[name=${username},password=${password}]`]),
    ]);
    fs.writeFileSync(path.join(dir, SCRAM_MARKER), `${username} (at format)\n`);
  }
  return startDetached('kafka', 'java', [...jvm, '-cp', classpath, 'kafka.Kafka', props], {
    log: path.join(l.logs, 'kafka.log'),
    marker: props,
  });
}

function kafkaJvm(log4j: string): string[] {
  return [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
  ];
}

/**
 * Creates {@link KAFKA_TEST_SCRAM} in a running broker whose data directory was formatted before the SASL listener
 * existed (no marker): one `ConfigCommand` run over the PLAINTEXT listener, then the marker. A no-op otherwise.
 */
export async function ensureKafkaScramUser(
  l: Layout,
  plaintextBroker: string,
): Promise<'created' | 'present'> {
  const dir = path.join(l.data, 'kafka');
  const marker = path.join(dir, SCRAM_MARKER);
  if (fs.existsSync(marker)) return 'present';
  const { username, password, mechanisms } = KAFKA_TEST_SCRAM;
  // One mechanism per request: the broker refuses to alter one user's credentials twice in one request.
  for (const mechanism of mechanisms) {
    await run(`kafka SCRAM user (${mechanism})`, 'java', [
      ...kafkaJvm(path.join(dir, 'log4j.properties')),
      '-cp',
      `${kafkaLibDir(l)}/*`,
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      plaintextBroker,
      '--alter',
      '--add-config',
      `${mechanism}=[password=${password}]`,
      '--entity-type',
      'users',
      '--entity-name',
      username,
    ]);
  }
  fs.writeFileSync(marker, `${username} (added to an existing data directory)\n`);
  return 'created';
}

export async function kafkaHealthy(brokers: string[], timeoutMs = 3000): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'tidemark-infra-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function waitKafka(brokers: string[], proc: StartedProcess, timeoutMs = 90_000): Promise<void> {
  await waitFor('kafka', () => kafkaHealthy(brokers), {
    timeoutMs,
    intervalMs: 500,
    log: proc.log,
    pid: proc.pid,
  });
}

/**
 * A KRaft cluster id: 16 random bytes, base64url, as `kafka-storage random-uuid` makes them. Like Kafka's own
 * `Uuid.randomUuid`, it never starts with '-', which a command line would read as an option (1 id in 64 would).
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
