/**
 * Apache Kafka, single-node KRaft (broker + controller in one JVM), from Maven Central jars, run with the
 * machine's Java 17. Auto topic creation is off: topics are created by the project (libs/bus topics.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
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
  p: { port: number; controllerPort: number },
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
      `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
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
  const jvm = [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
  ];
  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    const clusterId = newClusterId();
    await run('kafka storage format', 'java', [
      ...jvm,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId}`,
      '-c',
      props,
    ]);
  }
  return startDetached('kafka', 'java', [...jvm, '-cp', classpath, 'kafka.Kafka', props], {
    log: path.join(l.logs, 'kafka.log'),
    marker: props,
  });
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
