/**
 * A FerretDB instance of a test's own (same cached binary as `infra up`), for tests that need a source of their
 * own: one they can break (a tiny capped oplog that rolls over in seconds; capped clean-up every second), or one
 * whose oplog holds only what happened after the data was loaded (`beforeOplog` runs before `local.oplog.rs`
 * exists, so FerretDB writes no oplog entries for it, as on a deployment whose oplog window has long moved past
 * the initial load). Stopped and its data deleted by `stop()`. Its backend is the source's (`TIDEMARK_SOURCE_BACKEND`)
 * unless `backend` says otherwise; on `postgresql` it gets a PostgreSQL cluster of its own, also deleted by `stop()`.
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
import { startDetached, stopProcess, type StartedProcess } from './process';

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
  const [port, debugPort] = [await freePort(), await freePort()];
  const dir = path.join(l.data, 'scratch', `${opts.name}-${port}`);
  fs.mkdirSync(dir, { recursive: true });
  const backend = opts.backend ?? ferretdbBackend('source');
  let pg: { proc: StartedProcess; dir: string; link: string } | undefined;
  let pgUrl: string | undefined;
  if (backend === 'postgresql') {
    const cluster = { name: `scratch-${opts.name}-${port}`, port: await freePort() };
    await ensurePostgresCluster(l, cluster.name);
    pg = {
      proc: startPostgres(l, cluster),
      dir: postgresDataDir(l, cluster.name),
      link: path.join(l.data, `pg-${cluster.name}`),
    };
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
