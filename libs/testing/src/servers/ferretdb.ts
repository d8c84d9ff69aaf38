/**
 * FerretDB 1.24 (Apache-2.0): a MongoDB wire-protocol server on SQLite or PostgreSQL (see ./postgresql.ts), built
 * from the Go module proxy.
 *
 * Two instances run: the *source* (the deployment being backed up) and the *backup side* (oplog store, head
 * databases, metadata, blockstore). Both get a replica-set name so drivers connect with `replicaSet=`.
 *
 * Build: a plain `go install .../cmd/ferretdb@v1.24.2` binary panics at start-up because the module lacks the
 * generated `build/version/version.txt`, so we copy the downloaded module, write that file and build
 * `./cmd/ferretdb` from the copy. FerretDB writes oplog entries only when `local.oplog.rs` exists, so the source's
 * capped oplog is created after start-up. Telemetry is disabled; every listener binds to 127.0.0.1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { ENV, readInfraState } from '@tidemark/config';
import type { Layout } from './layout';
import { goEnv, downloadGoModule } from './go-build';
import { run, startDetached, waitFor, type StartedProcess } from './process';
import { SERVER_VERSIONS } from './versions';

export const REPLICA_SET = 'rs0';
const MODULE = 'github.com/FerretDB/FerretDB';

export function ferretdbBinary(l: Layout): string {
  return path.join(l.cache, 'bin', `ferretdb-${SERVER_VERSIONS.ferretdb}`);
}

/** Downloads and builds FerretDB into the cache, once (about a minute on two cores). */
export async function ensureFerretdb(l: Layout, log: (m: string) => void): Promise<string> {
  const bin = ferretdbBinary(l);
  if (fs.existsSync(bin)) return bin;
  log(`building FerretDB ${SERVER_VERSIONS.ferretdb} from the Go module proxy (first run only)`);
  const env = goEnv(l);
  const moduleDir = await downloadGoModule(l, MODULE, SERVER_VERSIONS.ferretdb);
  const src = path.join(l.cache, `ferretdb-src-${SERVER_VERSIONS.ferretdb}`);
  fs.rmSync(src, { recursive: true, force: true });
  fs.cpSync(moduleDir, src, { recursive: true });
  for (const f of walk(src)) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  fs.writeFileSync(path.join(src, 'build', 'version', 'version.txt'), `${SERVER_VERSIONS.ferretdb}\n`);
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp`;
  await run('ferretdb build', 'go', ['build', '-trimpath', '-o', tmp, './cmd/ferretdb'], { cwd: src, env });
  fs.renameSync(tmp, bin);
  fs.rmSync(src, { recursive: true, force: true });
  return bin;
}

function* walk(dir: string): Generator<string> {
  yield dir;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** The storage a FerretDB runs on: `sqlite` (files in its state directory) or `postgresql` (a cluster of its own). */
export type FerretdbBackend = 'sqlite' | 'postgresql';
export const FERRETDB_BACKENDS: readonly FerretdbBackend[] = ['sqlite', 'postgresql'];

/**
 * The backend of the source or backup FerretDB `infra up` starts: `TIDEMARK_SOURCE_BACKEND` /
 * `TIDEMARK_BACKUP_BACKEND` (`sqlite` or `postgresql`), default {@link DEFAULT_FERRETDB_BACKENDS}.
 */
export function ferretdbBackend(
  side: 'source' | 'backup',
  env: NodeJS.ProcessEnv = process.env,
): FerretdbBackend {
  const name = side === 'source' ? 'TIDEMARK_SOURCE_BACKEND' : 'TIDEMARK_BACKUP_BACKEND';
  const v = env[name];
  if (v === undefined || v === '') return DEFAULT_FERRETDB_BACKENDS[side];
  if ((FERRETDB_BACKENDS as readonly string[]).includes(v)) return v as FerretdbBackend;
  throw new Error(`${name}=${v}: use ${FERRETDB_BACKENDS.join(' or ')}`);
}

/**
 * PostgreSQL on both sides (docs/stand-in.md, "Decision"). `npm run bench:stand-in` measured updates and deletes by
 * _id 40-400x faster than on SQLite (with the `_id` lookup index `infra up` adds), and the oplog's holes short
 * enough for a 1 s stability delay instead of 5 s. `npm run bench` on a quiet machine: 20 updates all applied 6.6-16x
 * sooner, capture lag 2.4 s instead of 6.4 s, the initial sync 5% (100k documents) to 20% (400k) longer than
 * SQLite's (the backup side's inserts cost more CPU on PostgreSQL). A PostgreSQL source over a SQLite backup side
 * is no middle way: the source then takes writes far faster than the backup side can apply them (an end-to-end suite
 * ran more than 30 minutes). `TIDEMARK_SOURCE_BACKEND=sqlite` / `TIDEMARK_BACKUP_BACKEND=sqlite` select SQLite.
 */
export const DEFAULT_FERRETDB_BACKENDS: Readonly<Record<'source' | 'backup', FerretdbBackend>> = {
  source: 'postgresql',
  backup: 'postgresql',
};

/** `FERRETDB_STABILITY_DELAY_ENV` of `@tidemark/source` (not imported: its specs import this library). */
const FERRETDB_STABILITY_DELAY_ENV = 'TIDEMARK_FERRETDB_STABILITY_DELAY_MS';

/**
 * The backend of the local source or backup FerretDB: the one `infra up` started it on when it runs (its state
 * file says), else the configured one ({@link ferretdbBackend}).
 */
export function localFerretdbBackend(
  side: 'source' | 'backup',
  env: NodeJS.ProcessEnv = process.env,
): FerretdbBackend {
  const procs = readInfraState(env)?.processes ?? [];
  if (!procs.some((p) => p.name === `ferretdb-${side}`)) return ferretdbBackend(side, env);
  return procs.some((p) => p.name === `postgresql-${side}`) ? 'postgresql' : 'sqlite';
}

/**
 * How long the agent waits before it trusts an oplog entry of a FerretDB source, per backend, ms: longer than the
 * longest a hole lasted in `npm run bench:stand-in` (an entry stored after a later one), with a margin. See the
 * README, "Where FerretDB differs".
 */
export const FERRETDB_STABILITY_DELAY_BY_BACKEND: Readonly<Record<FerretdbBackend, number>> = {
  sqlite: 5_000,
  postgresql: 1_000,
};

/**
 * The source deployment `SOURCE_MONGODB_URI` names when it is not the local servers' source (a real MongoDB replica
 * set, say); undefined when the tests run against the source `tidemark infra up` started (or no source is named).
 */
export function externalSourceUri(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env[ENV.sourceUri] ?? '';
  return configured !== '' && configured !== readInfraState(env)?.source.uri ? configured : undefined;
}

/**
 * `TIDEMARK_FERRETDB_STABILITY_DELAY_MS` for the processes the test servers feed (the agent, in-process tail
 * specs): the delay of the local source's backend, the larger one when the running `infra up` source and the
 * configured backend (which scratch sources follow) differ. Nothing when the variable is set already or the source
 * is external (a real MongoDB needs none; an external FerretDB keeps the safe default).
 */
export function standInTailEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if ((env[FERRETDB_STABILITY_DELAY_ENV] ?? '') !== '') return {};
  if (externalSourceUri(env) !== undefined) return {};
  const backends = [ferretdbBackend('source', env), localFerretdbBackend('source', env)];
  const ms = Math.max(...backends.map((b) => FERRETDB_STABILITY_DELAY_BY_BACKEND[b]));
  return { [FERRETDB_STABILITY_DELAY_ENV]: String(ms) };
}

export interface FerretdbInstance {
  name: 'source' | 'backup';
  port: number;
  debugPort: number;
  /** Default sqlite. With postgresql, `postgresqlUrl` names the cluster's database. */
  backend?: FerretdbBackend;
  postgresqlUrl?: string;
}

/** FerretDB's flags for its backend; `dir` is its state directory (and the SQLite files' directory). */
export function backendArgs(backend: FerretdbBackend, dir: string, postgresqlUrl?: string): string[] {
  if (backend === 'sqlite') return ['--handler=sqlite', `--sqlite-url=file:${dir}/`];
  if (!postgresqlUrl) throw new Error('FerretDB on postgresql needs the cluster URL');
  return ['--handler=postgresql', `--postgresql-url=${postgresqlUrl}`];
}

export function ferretdbUri(port: number): string {
  return `mongodb://127.0.0.1:${port}/?replicaSet=${REPLICA_SET}`;
}

export function startFerretdb(l: Layout, inst: FerretdbInstance): StartedProcess {
  const bin = ferretdbBinary(l);
  const dir = path.join(l.data, inst.name);
  fs.mkdirSync(dir, { recursive: true });
  const batch = process.env['TIDEMARK_FERRETDB_BATCH_SIZE'] ?? '1000';
  return startDetached(
    `ferretdb-${inst.name}`,
    bin,
    [
      ...backendArgs(inst.backend ?? 'sqlite', dir, inst.postgresqlUrl),
      `--state-dir=${dir}`,
      `--repl-set-name=${REPLICA_SET}`,
      `--listen-addr=127.0.0.1:${inst.port}`,
      `--debug-addr=127.0.0.1:${inst.debugPort}`,
      '--telemetry=disable',
      '--log-level=WARN',
      `--test-batch-size=${batch}`,
      // The capped oplog is trimmed every 5 s (default: every minute), so it stays near its size.
      '--test-capped-cleanup-interval=5s',
      '--test-capped-cleanup-percentage=20',
    ],
    { log: path.join(l.logs, `ferretdb-${inst.name}.log`), marker: `--state-dir=${dir}` },
  );
}

export async function ferretdbHealthy(uri: string, timeoutMs = 3000): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    const res = await client.db('admin').command({ ping: 1 });
    return res['ok'] === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function waitFerretdb(uri: string, proc: StartedProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(proc.name, () => ferretdbHealthy(uri), { timeoutMs, log: proc.log, pid: proc.pid });
}

/** Creates the capped `local.oplog.rs` FerretDB writes its oplog into, if missing. */
export async function ensureOplog(uri: string, sizeBytes: number): Promise<'created' | 'exists'> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    const local = client.db('local');
    const existing = await local.listCollections({ name: 'oplog.rs' }, { nameOnly: true }).toArray();
    if (existing.length > 0) return 'exists';
    await local.createCollection('oplog.rs', { capped: true, size: sizeBytes });
    return 'created';
  } finally {
    await client.close();
  }
}
