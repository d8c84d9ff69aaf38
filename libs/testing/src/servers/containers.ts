/**
 * The testcontainers path: where a Docker daemon answers and the user asks for it (`tidemark test --containers`,
 * `tidemark infra containers`), the four shared servers run as containers instead of local processes:
 *
 * - two MongoDB single-node replica sets (`rs0`), the *source* and the *backup side*;
 * - Apache Kafka, single-node KRaft (the Apache project's own image, Apache-2.0);
 * - moto's S3 server (Apache-2.0), with the snapshot store's bucket.
 *
 * MongoDB's server is licensed under the SSPL, which this project does not pick for anyone: the MongoDB image is
 * the user's to name (`TIDEMARK_CONTAINERS_MONGODB_IMAGE`, e.g. `mongo:8.0`), and without it the path refuses to
 * start. The Kafka and S3 images have defaults and can be overridden the same way.
 *
 * Endpoints come back as the environment variables every command and suite already reads (`KAFKA_BROKERS`,
 * `SOURCE_MONGODB_URI`, …), so nothing else knows where the servers run. Each container publishes one host port;
 * MongoDB and Kafka listen on that same port number inside the container, so the address a replica-set member and
 * a broker advertise is the one the host reaches them by. The containers live as long as the process that started
 * them: `stop()` removes them, and testcontainers' reaper removes them if that process dies.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { ENV } from '@tidemark/config';
import { freePort } from '../e2e/stack';
import { KAFKA_BROKER_SETTINGS, kafkaHealthy } from './kafka';
import { waitFor } from './process';
import { S3_BUCKET, S3_CREDENTIALS } from './s3';
import { SERVER_VERSIONS } from './versions';

export const CONTAINER_IMAGE_ENV = {
  mongodb: 'TIDEMARK_CONTAINERS_MONGODB_IMAGE',
  kafka: 'TIDEMARK_CONTAINERS_KAFKA_IMAGE',
  s3: 'TIDEMARK_CONTAINERS_S3_IMAGE',
} as const;

export interface ContainerImages {
  readonly mongodb: string;
  readonly kafka: string;
  readonly s3: string;
}

/** A containers-path set-up the user has to change: no Docker daemon, or no MongoDB image named. */
export class ContainersUnavailableError extends Error {
  override readonly name = 'ContainersUnavailableError';
}

/** The images to run: the user's MongoDB image (required) and the Kafka and S3 images (defaults, overridable). */
export function containerImages(env: NodeJS.ProcessEnv = process.env): ContainerImages {
  const named = (n: string): string | undefined => {
    const v = env[n]?.trim();
    return v ? v : undefined;
  };
  const mongodb = named(CONTAINER_IMAGE_ENV.mongodb);
  if (!mongodb) {
    throw new ContainersUnavailableError(
      `the containers path needs a MongoDB image: set ${CONTAINER_IMAGE_ENV.mongodb} (for example mongo:8.0). ` +
        `MongoDB's server is licensed under the SSPL, so Tidemark does not choose that image for you.`,
    );
  }
  return {
    mongodb,
    kafka: named(CONTAINER_IMAGE_ENV.kafka) ?? `apache/kafka:${SERVER_VERSIONS.kafka}`,
    s3: named(CONTAINER_IMAGE_ENV.s3) ?? `motoserver/moto:${SERVER_VERSIONS.moto}`,
  };
}

/** The host the containers' published ports are reached on, or a clear error when no Docker daemon answers. */
export async function containerHost(): Promise<string> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    const client = await getContainerRuntimeClient();
    return client.info.containerRuntime.host;
  } catch (err) {
    throw new ContainersUnavailableError(
      `the containers path needs a Docker daemon, and none answered (${(err as Error).message}). ` +
        `Start Docker, set DOCKER_HOST, or run without --containers to use the local servers.`,
    );
  }
}

/** The MongoDB URI of a single-node replica set listening on `host:port`. */
export function replicaSetUri(host: string, port: number): string {
  return `mongodb://${host}:${port}/?directConnection=true`;
}

/** The `export`-able environment naming the containers' endpoints, as `resolveEndpoints` reads it. */
export function containerEndpointEnv(e: {
  kafka: string;
  source: string;
  backup: string;
  s3: string;
}): Record<string, string> {
  return {
    [ENV.kafkaBrokers]: e.kafka,
    [ENV.sourceUri]: e.source,
    [ENV.backupUri]: e.backup,
    [ENV.s3Endpoint]: e.s3,
    [ENV.s3Bucket]: S3_BUCKET,
    [ENV.s3Region]: S3_CREDENTIALS.region,
    [ENV.s3AccessKeyId]: S3_CREDENTIALS.accessKeyId,
    [ENV.s3SecretAccessKey]: S3_CREDENTIALS.secretAccessKey,
    [ENV.s3ForcePathStyle]: 'true',
  };
}

/**
 * The apache/kafka image's name for a broker setting: `KAFKA_` and the name upper-cased, with `.` → `_`,
 * `_` → `__` and `-` → `___` (the image's documented mapping).
 */
export function kafkaImageVariable(setting: string): string {
  return `KAFKA_${setting.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;
}

/** The apache/kafka image's settings (its `KAFKA_*` variables) for one KRaft node advertising `host:port`. */
export function kafkaContainerEnv(host: string, port: number): Record<string, string> {
  const settings: Record<string, string> = {
    'node.id': '1',
    'process.roles': 'broker,controller',
    listeners: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://127.0.0.1:9093`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'controller.quorum.voters': '1@127.0.0.1:9093',
    ...KAFKA_BROKER_SETTINGS,
  };
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [kafkaImageVariable(k), v]));
}

export interface StartedContainers {
  /** The endpoints, as environment variables for the commands and suites that use them. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the four servers as containers and waits until each answers. Throws `ContainersUnavailableError` early. */
export async function startContainers(
  log: (m: string) => void,
  env = process.env,
): Promise<StartedContainers> {
  const images = containerImages(env);
  const host = await containerHost();
  const { GenericContainer, Wait } = await import('testcontainers');
  type Started = Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>>;
  const started: Started[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((c) => c.stop()));
  };
  try {
    const mongo = async (role: string): Promise<string> => {
      const port = await freePort();
      log(`starting ${images.mongodb} as the ${role} replica set on ${host}:${port}`);
      const c = await new GenericContainer(images.mongodb)
        .withCommand(['mongod', '--replSet', 'rs0', '--bind_ip_all', '--port', String(port)])
        .withExposedPorts({ container: port, host: port })
        .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
        .start();
      started.push(c);
      const init = await c.exec([
        'mongosh',
        '--port',
        String(port),
        '--quiet',
        '--eval',
        `rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: '127.0.0.1:${port}' }] })`,
      ]);
      if (init.exitCode !== 0) throw new Error(`rs.initiate on the ${role} failed: ${init.output}`);
      const uri = replicaSetUri(host, port);
      await waitFor(`the ${role} replica set's primary`, () => isWritablePrimary(uri), {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      return uri;
    };
    const kafka = async (): Promise<string> => {
      const port = await freePort();
      log(`starting ${images.kafka} (KRaft) on ${host}:${port}`);
      const c = await new GenericContainer(images.kafka)
        .withEnvironment(kafkaContainerEnv(host, port))
        .withExposedPorts({ container: port, host: port })
        .start();
      started.push(c);
      const brokers = `${host}:${port}`;
      await waitFor('kafka', () => kafkaHealthy([brokers]), { timeoutMs: 90_000, intervalMs: 500 });
      return brokers;
    };
    const s3 = async (): Promise<string> => {
      log(`starting ${images.s3} (S3)`);
      const c = await new GenericContainer(images.s3)
        .withExposedPorts(5000)
        .withWaitStrategy(Wait.forHttp('/', 5000))
        .start();
      started.push(c);
      const endpoint = `http://${host}:${c.getMappedPort(5000)}`;
      const client = new S3Client({
        endpoint,
        region: S3_CREDENTIALS.region,
        forcePathStyle: true,
        credentials: S3_CREDENTIALS,
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
      } finally {
        client.destroy();
      }
      return endpoint;
    };
    const [source, backup, brokers, endpoint] = await Promise.all([
      mongo('source'),
      mongo('backup'),
      kafka(),
      s3(),
    ]);
    return { env: containerEndpointEnv({ kafka: brokers, source, backup, s3: endpoint }), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function isWritablePrimary(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000 });
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    return hello['isWritablePrimary'] === true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}
