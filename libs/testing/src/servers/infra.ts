/**
 * `tidemark infra up|down|status`: the real servers Tidemark's runs and tests talk to, on loopback.
 *
 * A server whose endpoint is given by an environment variable (KAFKA_BROKERS, SOURCE_MONGODB_URI,
 * BACKUP_MONGODB_URI, S3_ENDPOINT) is *external*: it is used, never started or stopped. The others are started
 * here, from cached downloads, and recorded by pid in `$TIDEMARK_HOME/infra.json`, which is also how every later
 * command finds them (see @tidemark/config).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV, infraStatePath, readInfraState, resolveEndpoints, type InfraState } from '@tidemark/config';
import {
  ferretdbBackend,
  ferretdbHealthy,
  ensureFerretdb,
  ensureOplog,
  ferretdbUri,
  standInTailEnv,
  startFerretdb,
  waitFerretdb,
} from './ferretdb';
import {
  ensureKafkaJars,
  ensureKafkaScramUser,
  kafkaHealthy,
  kafkaSaslState,
  startKafka,
  waitKafka,
} from './kafka';
import { layout, ports } from './layout';
import { ensurePostgresCluster, postgresUrl, startPostgres, waitPostgres } from './postgresql';
import { isAlive, portInUse, stopProcess, type StartedProcess } from './process';
import { ensureDumpCheckPython, ensureSchemathesis } from './python-venv';
import { ensureMoto, S3_BUCKET, S3_CREDENTIALS, startS3, waitS3 } from './s3';
import { sweepScratchServers } from './scratch-ferretdb';

type Log = (msg: string) => void;
type ServerName = 'kafka' | 'source' | 'backup' | 's3';

export interface EndpointStatus {
  healthy: boolean;
  /** true when `infra up` started it; false when an environment variable points elsewhere. */
  managed: boolean;
}

export interface InfraStatus {
  kafka: EndpointStatus & { brokers: string[] };
  source: EndpointStatus & { uri: string };
  backup: EndpointStatus & { uri: string };
  s3: EndpointStatus & { endpoint: string | null; bucket: string };
  processes: Array<{ name: string; pid: number; running: boolean; log: string }>;
}

function external(env: NodeJS.ProcessEnv): Record<ServerName, boolean> {
  const set = (n: string) => (env[n] ?? '') !== '';
  return {
    kafka: set(ENV.kafkaBrokers),
    source: set(ENV.sourceUri),
    backup: set(ENV.backupUri),
    s3: set(ENV.s3Endpoint) || (set(ENV.s3Bucket) && !set(ENV.s3Endpoint) && env['S3_USE_AWS'] === 'true'),
  };
}

function writeState(state: InfraState, env: NodeJS.ProcessEnv): void {
  const file = infraStatePath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

type Proc = InfraState['processes'][number];

export async function infraUp(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<InfraState> {
  const l = layout(env);
  const p = ports(env);
  const ext = external(env);
  fs.mkdirSync(l.logs, { recursive: true });
  await sweepScratchServers(log, env);
  const previous = readInfraState(env);
  const running = (name: string): Proc | undefined => {
    const proc = previous?.processes.find((x) => x.name === name) as Proc | undefined;
    return proc && isAlive(proc.pid, proc.marker) ? proc : undefined;
  };
  const state: InfraState = {
    version: 1,
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    kafka: { brokers: [`127.0.0.1:${p.kafka}`] },
    source: { uri: ferretdbUri(p.source) },
    backup: { uri: ferretdbUri(p.backup) },
    s3: { endpoint: `http://127.0.0.1:${p.s3}`, bucket: S3_BUCKET, ...S3_CREDENTIALS },
    processes: [],
  };
  const backend = { source: ferretdbBackend('source', env), backup: ferretdbBackend('backup', env) };
  for (const side of ['source', 'backup'] as const) {
    const proc = running(`ferretdb-${side}`);
    if (proc && !isAlive(proc.pid, `--handler=${backend[side]}`)) {
      throw new Error(
        `the ${side} FerretDB already runs on another backend than ${backend[side]}; \`tidemark infra down\` first`,
      );
    }
  }
  const pg = {
    source: !ext.source && backend.source === 'postgresql',
    backup: !ext.backup && backend.backup === 'postgresql',
  };
  const want = {
    kafka: !ext.kafka && !running('kafka'),
    source: !ext.source && !running('ferretdb-source'),
    backup: !ext.backup && !running('ferretdb-backup'),
    s3: !ext.s3 && !running('s3'),
    sourcePg: pg.source && !running('postgresql-source'),
    backupPg: pg.backup && !running('postgresql-backup'),
  };
  for (const name of [
    'kafka',
    'postgresql-source',
    'postgresql-backup',
    'ferretdb-source',
    'ferretdb-backup',
    's3',
  ]) {
    const proc = running(name);
    if (proc) state.processes.push(proc);
  }

  // Downloads and builds first, in parallel; each is cached and skipped on later runs.
  const t0 = Date.now();
  await Promise.all([
    want.kafka ? ensureKafkaJars(l, log) : undefined,
    want.source || want.backup ? ensureFerretdb(l, log) : undefined,
    want.s3 ? ensureMoto(l, log) : undefined,
    // Not servers: the Python the dump specs check dumps with (tools/dump-check), and schemathesis, which the
    // API spec runs against job-state (apps/job-state/test/schemathesis.int-spec.ts).
    ensureDumpCheckPython(l, log),
    ensureSchemathesis(l, log),
    want.sourcePg ? ensurePostgresCluster(l, 'source', env) : undefined,
    want.backupPg ? ensurePostgresCluster(l, 'backup', env) : undefined,
  ]);
  if (Date.now() - t0 > 2000) log(`servers prepared in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  for (const [what, port, needed] of [
    ['kafka', p.kafka, want.kafka],
    ['kafka controller', p.kafkaController, want.kafka],
    ['kafka SASL listener', p.kafkaSasl, want.kafka],
    ['source FerretDB', p.source, want.source],
    ['backup FerretDB', p.backup, want.backup],
    ['S3 server', p.s3, want.s3],
    ['source PostgreSQL', p.sourcePg, want.sourcePg],
    ['backup PostgreSQL', p.backupPg, want.backupPg],
  ] as const) {
    if (needed && (await portInUse(port))) {
      throw new Error(
        `port ${port} for the ${what} is taken by another process; move it with its TIDEMARK_*_PORT variable`,
      );
    }
  }

  const started: Array<{ proc: StartedProcess; wait: () => Promise<void> }> = [];
  const record = (proc: StartedProcess) => {
    state.processes.push({ name: proc.name, pid: proc.pid, log: proc.log, marker: proc.marker } as Proc);
    writeState(state, env); // recorded at once, so `infra down` can stop it even if a later step fails
  };
  // PostgreSQL first: a FerretDB on it starts once its cluster accepts connections (Kafka starts meanwhile).
  const pgReady: Promise<void>[] = [];
  for (const c of [
    { name: 'source' as const, port: p.sourcePg, needed: want.sourcePg },
    { name: 'backup' as const, port: p.backupPg, needed: want.backupPg },
  ]) {
    if (!c.needed) continue;
    const proc = startPostgres(l, c, env);
    record(proc);
    pgReady.push(waitPostgres(c, proc, env));
  }
  // A broker already running keeps the listeners it was started with (an older one has no SASL listener).
  const saslOfRunning = running('kafka') === undefined ? undefined : previous?.kafka.sasl;
  if (saslOfRunning !== undefined) state.kafka.sasl = saslOfRunning;
  if (want.kafka) {
    const proc = await startKafka(l, {
      port: p.kafka,
      controllerPort: p.kafkaController,
      saslPort: p.kafkaSasl,
    });
    state.kafka.sasl = kafkaSaslState(p.kafkaSasl);
    record(proc);
    started.push({ proc, wait: () => waitKafka(state.kafka.brokers, proc) });
  }
  await Promise.all(pgReady);
  for (const inst of [
    {
      name: 'source' as const,
      port: p.source,
      debugPort: p.sourceDebug,
      needed: want.source,
      backend: backend.source,
      postgresqlUrl: postgresUrl(p.sourcePg),
    },
    {
      name: 'backup' as const,
      port: p.backup,
      debugPort: p.backupDebug,
      needed: want.backup,
      backend: backend.backup,
      postgresqlUrl: postgresUrl(p.backupPg),
    },
  ]) {
    if (!inst.needed) continue;
    const proc = startFerretdb(l, inst);
    record(proc);
    started.push({ proc, wait: () => waitFerretdb(ferretdbUri(inst.port), proc) });
  }
  if (want.s3) {
    const proc = startS3(l, p.s3);
    record(proc);
    started.push({ proc, wait: () => waitS3(state.s3.endpoint, proc) });
  }
  writeState(state, env);
  await Promise.all(started.map((s) => s.wait()));

  if (!ext.source) {
    // Small on purpose: FerretDB cannot push an oplog query down to SQLite, so every tail round reads the whole
    // capped collection; a 32 MiB oplog keeps a round near a second and still holds minutes of writes.
    const size = Number(env['TIDEMARK_SOURCE_OPLOG_MB'] ?? '32') * 1024 * 1024;
    if ((await ensureOplog(state.source.uri, size)) === 'created')
      log('created the source oplog (local.oplog.rs)');
  }
  if (!ext.kafka && state.kafka.sasl !== undefined) {
    // A no-op once the data directory has its marker (formatted with the user, or given it by an earlier run).
    if ((await ensureKafkaScramUser(l, state.kafka.brokers[0]!)) === 'created')
      log(
        'created the SCRAM test user of the Kafka SASL listener (its data directory predates the listener)',
      );
  }
  if (!ext.s3) await ensureBucket(state);
  writeState(state, env);
  return state;
}

async function ensureBucket(state: InfraState): Promise<void> {
  const s3 = new S3Client({
    endpoint: state.s3.endpoint,
    region: state.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: state.s3.accessKeyId, secretAccessKey: state.s3.secretAccessKey },
  });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: state.s3.bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: state.s3.bucket }));
  } finally {
    s3.destroy();
  }
}

/** Stops exactly the processes `infra up` recorded (by pid, checked against their command line). */
export async function infraDown(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await sweepScratchServers(log, env);
  const state = readInfraState(env);
  if (!state) {
    log('no local servers recorded; nothing to stop');
    return;
  }
  // All servers at once, then the PostgreSQL clusters, once no FerretDB uses them.
  const procs = [...(state.processes as Proc[])].reverse();
  const stop = (list: Proc[]) =>
    Promise.all(
      list.map(async (proc) => {
        const res = await stopProcess(proc);
        log(`${proc.name} (pid ${proc.pid}): ${res}`);
      }),
    );
  await stop(procs.filter((x) => !x.name.startsWith('postgresql-')));
  await stop(procs.filter((x) => x.name.startsWith('postgresql-')));
  state.processes = [];
  fs.rmSync(infraStatePath(env), { force: true });
}

export async function infraStatus(env: NodeJS.ProcessEnv = process.env): Promise<InfraStatus> {
  const state = readInfraState(env);
  const ext = external(env);
  const e = resolveEndpoints(env);
  const [kafka, source, backup, s3] = await Promise.all([
    kafkaHealthy(e.kafka.brokers),
    ferretdbHealthy(e.source.uri),
    ferretdbHealthy(e.backup.uri),
    s3BucketHealthy(e.s3),
  ]);
  return {
    kafka: { brokers: e.kafka.brokers, healthy: kafka, managed: !ext.kafka },
    source: { uri: e.source.uri, healthy: source, managed: !ext.source },
    backup: { uri: e.backup.uri, healthy: backup, managed: !ext.backup },
    s3: { endpoint: e.s3.endpoint ?? null, bucket: e.s3.bucket, healthy: s3, managed: !ext.s3 },
    processes: (state?.processes ?? []).map((p) => ({
      name: p.name,
      pid: p.pid,
      running: isAlive(p.pid, (p as Proc).marker),
      log: p.log,
    })),
  };
}

async function s3BucketHealthy(s3cfg: ReturnType<typeof resolveEndpoints>['s3']): Promise<boolean> {
  const client = new S3Client({
    endpoint: s3cfg.endpoint,
    region: s3cfg.region,
    forcePathStyle: s3cfg.forcePathStyle,
    maxAttempts: 1,
    ...(s3cfg.accessKeyId && s3cfg.secretAccessKey
      ? { credentials: { accessKeyId: s3cfg.accessKeyId, secretAccessKey: s3cfg.secretAccessKey } }
      : {}),
  });
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3cfg.bucket }), {
      abortSignal: AbortSignal.timeout(3000),
    });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** `export NAME=value` lines for a shell, each value single-quoted. */
export function exportLines(vars: Readonly<Record<string, string>>): string[] {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return Object.entries(vars).map(([name, value]) => `export ${name}=${q(value)}`);
}

/** `export NAME=value` lines for a shell, from the resolved endpoints. */
export function infraEnvLines(env: NodeJS.ProcessEnv = process.env): string[] {
  const e = resolveEndpoints(env);
  const vars: Record<string, string> = {
    [ENV.kafkaBrokers]: e.kafka.brokers.join(','),
    [ENV.sourceUri]: e.source.uri,
    [ENV.backupUri]: e.backup.uri,
    [ENV.s3Bucket]: e.s3.bucket,
    [ENV.s3Region]: e.s3.region,
  };
  if (e.s3.endpoint) vars[ENV.s3Endpoint] = e.s3.endpoint;
  if (e.s3.accessKeyId) vars[ENV.s3AccessKeyId] = e.s3.accessKeyId;
  if (e.s3.secretAccessKey) vars[ENV.s3SecretAccessKey] = e.s3.secretAccessKey;
  return exportLines({ ...vars, ...standInTailEnv(env) });
}
