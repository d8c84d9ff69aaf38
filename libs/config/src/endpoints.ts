/**
 * Where Tidemark's servers are: Kafka, the source deployment, the backup-side MongoDB and the S3 endpoint.
 *
 * One resolution rule for every command, app and test suite:
 *   1. an environment variable, when set (so the same code runs against real MongoDB, Kafka and AWS S3);
 *   2. otherwise the state file written by `tidemark infra up` (`$TIDEMARK_HOME/infra.json`);
 *   3. otherwise a clear error saying which variable to set or which command to run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface S3Endpoint {
  /** Custom endpoint URL (S3-compatible server); undefined means AWS S3's own. */
  endpoint: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
}

export interface Endpoints {
  kafka: { brokers: string[]; clientIdPrefix: string };
  source: { uri: string };
  backup: { uri: string };
  s3: S3Endpoint;
}

/** The shape of `$TIDEMARK_HOME/infra.json`, written by `tidemark infra up`. */
export interface InfraState {
  version: 1;
  startedAt: string;
  kafka: {
    brokers: string[];
    /**
     * The local broker's SASL_PLAINTEXT listener and its SCRAM test user, when it has one (specs of the Kafka
     * clients' SASL settings connect to it; nothing else does). Absent for a broker started before it existed.
     */
    sasl?: { brokers: string[]; mechanisms: string[]; username: string; password: string };
  };
  source: { uri: string };
  backup: { uri: string };
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** Processes started by `infra up`, so `infra down` stops exactly these. */
  processes: Array<{ name: string; pid: number; log: string; marker?: string }>;
}

export const ENV = {
  kafkaBrokers: 'KAFKA_BROKERS',
  sourceUri: 'SOURCE_MONGODB_URI',
  backupUri: 'BACKUP_MONGODB_URI',
  s3Endpoint: 'S3_ENDPOINT',
  s3Region: 'S3_REGION',
  s3Bucket: 'S3_BUCKET',
  s3AccessKeyId: 'S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  home: 'TIDEMARK_HOME',
  root: 'TIDEMARK_ROOT',
} as const;

export class EndpointConfigError extends Error {
  override readonly name = 'EndpointConfigError';
}

/** The workspace root: $TIDEMARK_ROOT, else the folder holding this library's workspace. */
export function workspaceRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.root] ?? path.resolve(__dirname, '..', '..', '..');
}

/** Where local state (infra.json, server data, logs) lives: $TIDEMARK_HOME or `<root>/.tidemark`. */
export function tidemarkHome(env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.home] ?? path.join(workspaceRoot(env), '.tidemark');
}

export function infraStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(tidemarkHome(env), 'infra.json');
}

export function readInfraState(env: NodeJS.ProcessEnv = process.env): InfraState | undefined {
  const file = infraStatePath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as InfraState;
  if (parsed.version !== 1) {
    throw new EndpointConfigError(`${file}: unknown infra state version ${String(parsed.version)}`);
  }
  return parsed;
}

function pick(env: NodeJS.ProcessEnv, name: string, fromState: string | undefined, what: string): string {
  const v = env[name];
  if (v !== undefined && v !== '') return v;
  if (fromState !== undefined) return fromState;
  throw new EndpointConfigError(
    `no ${what} configured: set ${name}, or start the local servers with \`npx tidemark infra up\``,
  );
}

/** Resolves every endpoint; throws EndpointConfigError naming the missing variable. */
export function resolveEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const state = readInfraState(env);
  const brokers = pick(env, ENV.kafkaBrokers, state?.kafka.brokers.join(','), 'Kafka brokers')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  const s3Endpoint = env[ENV.s3Endpoint] ?? state?.s3.endpoint;
  return {
    kafka: { brokers, clientIdPrefix: env['KAFKA_CLIENT_ID_PREFIX'] ?? 'tidemark' },
    source: { uri: pick(env, ENV.sourceUri, state?.source.uri, 'source MongoDB URI') },
    backup: { uri: pick(env, ENV.backupUri, state?.backup.uri, 'backup MongoDB URI') },
    s3: {
      endpoint: s3Endpoint === '' ? undefined : s3Endpoint,
      region: env[ENV.s3Region] ?? state?.s3.region ?? 'us-east-1',
      bucket: pick(env, ENV.s3Bucket, state?.s3.bucket, 'S3 bucket'),
      accessKeyId: env[ENV.s3AccessKeyId] ?? env['AWS_ACCESS_KEY_ID'] ?? state?.s3.accessKeyId,
      secretAccessKey:
        env[ENV.s3SecretAccessKey] ?? env['AWS_SECRET_ACCESS_KEY'] ?? state?.s3.secretAccessKey,
      forcePathStyle: (env[ENV.s3ForcePathStyle] ?? (s3Endpoint ? 'true' : 'false')) === 'true',
    },
  };
}
