/**
 * A FerretDB instance of a test's own (same cached binary as `infra up`), for tests that need a source of their
 * own: one they can break (a tiny capped oplog that rolls over in seconds; capped clean-up every second), or one
 * whose oplog holds only what happened after the data was loaded (`beforeOplog` runs before `local.oplog.rs`
 * exists, so FerretDB writes no oplog entries for it, as on a deployment whose oplog window has long moved past
 * the initial load). Stopped and its data deleted by `stop()`. Its backend is the source's (`TIDEMARK_SOURCE_BACKEND`)
 * unless `backend` says otherwise; on `postgresql` it gets a PostgreSQL cluster of its own, also deleted by `stop()`.
 *
 * A test runner killed before `stop()` (SIGKILL, a CI timeout) would leave both servers running and their data on
 * disk: each scratch server records its processes, its paths and the pid of the process that started it in
 * `scratch.json` in its directory, and `sweepScratchServers` (run by `infra up`, `infra down` and every new scratch
 * server) stops and deletes those whose starter is gone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../e2e/stack';
import {
  backendArgs,
  ensureOplog,
  ferretdbBackend,
  ferretdbBinary,
  ferretdbUri,
  REPLICA_SET,
  waitFerretdb,
  type FerretdbBackend,
} from './ferretdb';
import { layout } from './layout';
import {
  ensurePostgresCluster,
  postgresDataDir,
  postgresUrl,
  startPostgres,
  waitPostgres,
} from './postgresql';
import { isAlive, startDetached, stopProcess, type StartedProcess } from './process';

/** `scratch.json`: what a sweep needs to clean up after a scratch server whose starter died. */
export interface ScratchRecord {
  /** pid of the process that started it (the test runner). */
  readonly owner: number;
  /** Its processes, FerretDB before the PostgreSQL under it. */
  readonly processes: readonly { readonly name: string; readonly pid: number; readonly marker: string }[];
  /** Paths to delete besides its own directory (a PostgreSQL cluster's data directory, a link to it). */
  readonly paths: readonly string[];
}

const RECORD = 'scratch.json';

function writeRecord(dir: string, record: ScratchRecord): void {
  const tmp = path.join(dir, `${RECORD}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(record));
  fs.renameSync(tmp, path.join(dir, RECORD));
}

/** Deletes `p`, and what it links to when it is a symbolic link (a cluster that lives in /var/tmp). */
function removeWithTarget(p: string): void {
  try {
    if (fs.lstatSync(p).isSymbolicLink()) fs.rmSync(fs.realpathSync(p), { recursive: true, force: true });
  } catch {
    /* gone, or a dangling link: removed below */
  }
  fs.rmSync(p, { recursive: true, force: true });
}

/** A scratch server's directory, as {@link scratchDirectories} found it. */
export interface ScratchDirectory {
  readonly dir: string;
  readonly record: ScratchRecord | undefined;
  readonly ageMs: number;
}

/**
 * The scratch servers' directories, each with its record; `record` is undefined where none is readable yet (a
 * starter between creating its directory and writing the record) and `ageMs` is the directory's. A directory
 * another process deletes meanwhile is left out.
 */
export function scratchDirectories(env: NodeJS.ProcessEnv = process.env): ScratchDirectory[] {
  const root = path.join(layout(env).data, 'scratch');
  return (fs.existsSync(root) ? fs.readdirSync(root) : []).flatMap((entry): ScratchDirectory[] => {
    const dir = path.join(root, entry);
    try {
      const ageMs = Date.now() - fs.statSync(dir).mtimeMs;
      try {
        return [
          {
            dir,
            record: JSON.parse(fs.readFileSync(path.join(dir, RECORD), 'utf8')) as ScratchRecord,
            ageMs,
          },
        ];
      } catch {
        return [{ dir, record: undefined, ageMs }];
      }
    } catch {
      return []; // swept by another process
    }
  });
}

/**
 * Stops the scratch servers whose starter no longer runs and deletes their data; returns how many it removed.
 * A directory without a record is left alone unless it is older than an hour (a starter killed between creating
 * the directory and writing the record).
 */
export async function sweepScratchServers(
  log: (line: string) => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let removed = 0;
  for (const { dir, record, ageMs } of scratchDirectories(env)) {
    if (record ? isAlive(record.owner) : ageMs <= 3_600_000) continue;
    for (const p of record?.processes ?? []) {
      const res = await stopProcess(p, 5_000);
      if (res === 'stopped') log(`scratch ${p.name} (pid ${p.pid}) of a test runner that is gone: stopped`);
    }
    for (const p of record?.paths ?? []) removeWithTarget(p);
    fs.rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

export interface ScratchFerretdb {
  uri: string;
  backend: FerretdbBackend;
  /** The PostgreSQL database under it (`postgres://…`), when its backend is postgresql. */
  postgresqlUrl?: string;
  /** The server's processes by role (`ferretdb`, and `postgresql` under it), for CPU accounting in benchmarks. */
  pids: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startScratchFerretdb(opts: {
  name: string;
  oplogBytes: number;
  /** Runs against the new server before its oplog is created (e.g. to load data). */
  beforeOplog?: (uri: string) => Promise<void>;
  /** Default: the source's backend (`TIDEMARK_SOURCE_BACKEND`). */
  backend?: FerretdbBackend;
}): Promise<ScratchFerretdb> {
  const l = layout();
  const bin = ferretdbBinary(l);
  if (!fs.existsSync(bin))
    throw new Error(`FerretDB is not built yet (${bin}); run \`npx tidemark infra up\` first`);
  await sweepScratchServers();
  const [port, debugPort] = [await freePort(), await freePort()];
  const dir = path.join(l.data, 'scratch', `${opts.name}-${port}`);
  fs.mkdirSync(dir, { recursive: true });
  const record = (procs: readonly StartedProcess[], paths: readonly string[]) =>
    writeRecord(dir, {
      owner: process.pid,
      processes: procs.map((p) => ({ name: p.name, pid: p.pid, marker: p.marker })),
      paths,
    });
  record([], []);
  const backend = opts.backend ?? ferretdbBackend('source');
  let pg: { proc: StartedProcess; dir: string; link: string } | undefined;
  let pgUrl: string | undefined;
  if (backend === 'postgresql') {
    const cluster = { name: `scratch-${opts.name}-${port}`, port: await freePort() };
    // Before initdb, so a sweep deletes a half-made cluster too (the link, and the /var/tmp folder it names).
    record([], [path.join(l.data, `pg-${cluster.name}`)]);
    await ensurePostgresCluster(l, cluster.name);
    pg = {
      proc: startPostgres(l, cluster),
      dir: postgresDataDir(l, cluster.name),
      link: path.join(l.data, `pg-${cluster.name}`),
    };
    record([pg.proc], [pg.link, pg.dir]);
    try {
      await waitPostgres(cluster, pg.proc);
    } catch (err) {
      await stopProcess(pg.proc);
      throw err;
    }
    pgUrl = postgresUrl(cluster.port);
  }
  const stopPg = async () => {
    if (!pg) return;
    await stopProcess(pg.proc);
    fs.rmSync(pg.dir, { recursive: true, force: true });
    fs.rmSync(pg.link, { force: true }); // when the cluster had to live outside the home (a link to it)
  };
  const proc = startDetached(
    `ferretdb-${opts.name}`,
    bin,
    [
      ...backendArgs(backend, dir, pgUrl),
      `--state-dir=${dir}`,
      `--repl-set-name=${REPLICA_SET}`,
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--telemetry=disable',
      '--log-level=ERROR',
      '--test-batch-size=1000',
      '--test-capped-cleanup-interval=1s',
      '--test-capped-cleanup-percentage=50',
    ],
    { log: path.join(l.logs, `ferretdb-${opts.name}-${port}.log`), marker: `--state-dir=${dir}` },
  );
  record([proc, ...(pg ? [pg.proc] : [])], pg ? [pg.link, pg.dir] : []);
  const uri = ferretdbUri(port);
  try {
    await waitFerretdb(uri, proc);
    await opts.beforeOplog?.(uri);
    await ensureOplog(uri, opts.oplogBytes);
  } catch (err) {
    await stopProcess(proc);
    await stopPg();
    throw err;
  }
  return {
    uri,
    backend,
    ...(pgUrl ? { postgresqlUrl: pgUrl } : {}),
    pids: { ferretdb: proc.pid, ...(pg ? { postgresql: pg.proc.pid } : {}) },
    stop: async () => {
      await stopProcess(proc);
      await stopPg();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
