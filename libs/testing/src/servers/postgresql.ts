/**
 * PostgreSQL (PostgreSQL License), the storage of a FerretDB started with `--handler=postgresql`.
 *
 * The server binaries come from the machine's packages (Debian's `postgresql`: /usr/lib/postgresql/<major>/bin);
 * nothing is downloaded. Each FerretDB that runs on PostgreSQL gets a cluster of its own: `initdb` into
 * `<data>/pg-<name>` once, then `postgres` in the foreground, started detached like every other server, listening
 * on 127.0.0.1 only and on a unix socket in its own directory, with a `ferretdb` database owned by the role
 * `tidemark` (and an `_id` lookup index on every collection's table, see {@link ID_LOOKUP_INDEX_SQL}). Loopback connections are trusted (a test server, like the S3 server's fixed keys); nothing else can
 * connect. PostgreSQL has no telemetry.
 *
 * PostgreSQL refuses to run as root. When this process is root (CI is), the cluster is created and run as an
 * unprivileged user through `setpriv` (which execs, so the recorded pid is the postmaster's): `$TIDEMARK_PG_USER`,
 * else the `postgres` user the Debian package creates, else `nobody`. When that user cannot reach the infra home
 * (under /root, say), the cluster lives in /var/tmp/tidemark-pg-<hash of the home>/ and the home links to it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Layout } from './layout';
import { portInUse, run, startDetached, waitFor, type StartedProcess } from './process';

export const PG_ROLE = 'tidemark';
export const PG_DATABASE = 'ferretdb';

export interface PgUser {
  name: string;
  uid: number;
  gid: number;
}

/** The directory holding `initdb` and `postgres`: `$TIDEMARK_PG_BIN`, else the newest /usr/lib/postgresql/<major>/bin. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['TIDEMARK_PG_BIN'];
  if (configured) return configured;
  const base = '/usr/lib/postgresql';
  const majors = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((d) => /^\d+$/.test(d) && fs.existsSync(path.join(base, d, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql (install them with `apt-get install -y postgresql`, ' +
        'or name their directory in TIDEMARK_PG_BIN)',
    );
  }
  return path.join(base, majors[0]!, 'bin');
}

/** The user PostgreSQL runs as when we are root; undefined when we are not root (it runs as us). */
export function postgresUser(env: NodeJS.ProcessEnv = process.env): PgUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n');
  const wanted = env['TIDEMARK_PG_USER'] ? [env['TIDEMARK_PG_USER']] : ['postgres', 'nobody'];
  for (const name of wanted) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(
    `no unprivileged user to run PostgreSQL as (tried ${wanted.join(', ')}); set TIDEMARK_PG_USER`,
  );
}

/** `command args` as `user` (through setpriv when we are root). */
function asUser(user: PgUser | undefined, command: string, args: string[]): [string, string[]] {
  if (!user) return [command, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', command, ...args]];
}

export interface PostgresCluster {
  /** Names the cluster's folder (`pg-<name>`) and log. */
  name: string;
  port: number;
}

/**
 * The cluster's folder: `<data>/pg-<name>`, or where that link points when the infra home is closed to the user
 * PostgreSQL runs as (see {@link ensurePostgresCluster}).
 */
export function postgresDataDir(l: Layout, name: string): string {
  const link = path.join(l.data, `pg-${name}`);
  try {
    return fs.lstatSync(link).isSymbolicLink() ? fs.realpathSync(link) : link;
  } catch {
    return link;
  }
}

/** The URL FerretDB's `--postgresql-url` takes. */
export function postgresUrl(port: number): string {
  return `postgres://${PG_ROLE}@127.0.0.1:${port}/${PG_DATABASE}`;
}

/** Creates the cluster's data directory with `initdb`, once. */
export async function ensurePostgresCluster(
  l: Layout,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ dir: string; sockets: string }> {
  const bin = postgresBinDir(env);
  const user = postgresUser(env);
  let root = postgresDataDir(l, name);
  fs.mkdirSync(l.data, { recursive: true }); // its parents stay open to others; only the cluster's own are 0700
  const prepare = async (): Promise<boolean> => {
    fs.mkdirSync(path.join(root, 'run'), { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o700);
    if (!user) return true;
    fs.chownSync(root, user.uid, user.gid);
    fs.chownSync(path.join(root, 'run'), user.uid, user.gid);
    return run('postgresql access check', ...asUser(user, 'test', ['-w', root])).then(
      () => true,
      () => false,
    );
  };
  if (!(await prepare())) {
    // The infra home sits under a directory the user cannot enter (CI as root in /root, say): the cluster lives in
    // /var/tmp instead, one folder per infra home, and <data>/pg-<name> links to it.
    const link = path.join(l.data, `pg-${name}`);
    fs.rmSync(link, { recursive: true, force: true });
    const hash = createHash('sha256').update(l.home).digest('hex').slice(0, 12);
    root = path.join('/var/tmp', `tidemark-pg-${hash}`, name);
    fs.mkdirSync(path.dirname(root), { recursive: true, mode: 0o755 });
    fs.symlinkSync(root, link);
    if (!(await prepare())) {
      throw new Error(
        `PostgreSQL runs as the unprivileged user ${user!.name}, who can reach neither ${link} nor ${root}; ` +
          'name another user in TIDEMARK_PG_USER',
      );
    }
  }
  const dir = path.join(root, 'data');
  const sockets = path.join(root, 'run');
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return { dir, sockets };
  fs.rmSync(dir, { recursive: true, force: true });
  await run(
    `initdb (${name})`,
    ...asUser(user, path.join(bin, 'initdb'), [
      `--pgdata=${dir}`,
      `--username=${PG_ROLE}`,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-instructions',
    ]),
    { cwd: root },
  );
  return { dir, sockets };
}

/** Starts `postgres` in the foreground of a detached process group (stopped by pid like the other servers). */
export function startPostgres(
  l: Layout,
  cluster: PostgresCluster,
  env: NodeJS.ProcessEnv = process.env,
): StartedProcess {
  const root = postgresDataDir(l, cluster.name);
  const dir = path.join(root, 'data');
  const [cmd, args] = asUser(postgresUser(env), path.join(postgresBinDir(env), 'postgres'), [
    '-D',
    dir,
    '-p',
    String(cluster.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${path.join(root, 'run')}`,
    '-c',
    'logging_collector=off',
    // Commit times of rows (pg_xact_commit_timestamp): how long after its `ts` an oplog entry became visible.
    '-c',
    'track_commit_timestamp=on',
    '-c',
    'max_connections=200',
  ]);
  return startDetached(`postgresql-${cluster.name}`, cmd, args, {
    cwd: root,
    log: path.join(l.logs, `postgresql-${cluster.name}.log`),
    marker: `-D ${dir}`,
  });
}

/** Waits until the server accepts connections, then creates the `ferretdb` database if missing. */
export async function waitPostgres(
  cluster: PostgresCluster,
  proc: StartedProcess,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<void> {
  const bin = postgresBinDir(env);
  const client = ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', PG_ROLE];
  await waitFor(
    proc.name,
    async () => {
      if (!(await portInUse(cluster.port))) return false;
      await run('pg_isready', path.join(bin, 'pg_isready'), [...client, '-d', 'postgres']);
      return true;
    },
    { timeoutMs, log: proc.log, pid: proc.pid },
  );
  const exists = await run('psql', path.join(bin, 'psql'), [
    ...client,
    '-d',
    'postgres',
    '-tAc',
    `SELECT 1 FROM pg_database WHERE datname = '${PG_DATABASE}'`,
  ]);
  if (exists.trim() !== '1') await run('createdb', path.join(bin, 'createdb'), [...client, PG_DATABASE]);
  // TIDEMARK_PG_ID_INDEX=false leaves it out (FerretDB's own tables only), e.g. to measure what it costs.
  if (env['TIDEMARK_PG_ID_INDEX'] === 'false') return;
  await run('psql (_id lookup index)', path.join(bin, 'psql'), [
    ...client,
    '-d',
    PG_DATABASE,
    '-v',
    'ON_ERROR_STOP=1',
    '-qc',
    ID_LOOKUP_INDEX_SQL,
  ]);
}

/**
 * An index FerretDB 1.24's own does not give: it finds a document by `_id` with `_jsonb->'_id' @> <value>` (for a
 * string, ObjectId, integer, boolean or date `_id`), which its unique btree index on `_jsonb->'_id'` cannot serve,
 * so every such lookup (the first step of each update and delete) scans the table. An event trigger gives each table
 * FerretDB creates for a collection (not the capped ones, whose lookups are by record id) a GIN index on that
 * expression, which serves `@>`. FerretDB does not know of it (it lists and drops only its own indexes); dropping
 * the collection drops it with the table.
 *
 * The planner must also choose it. It prices a sequential scan by the table's pages, and a document of more than
 * ~2 KB is stored apart (TOAST), leaving a pointer of a few bytes in the row: a table of 2,000 documents of 10 KB
 * looks like 20 pages, so it scanned them, detoasting every document to read its `_id` (11.6 ms a lookup, measured,
 * against 0.06 ms through the index). `jsonb_object_field` (the `->` operator) is priced at 50 operator costs instead
 * of 1, near what reading a field out of a large document costs, so a lookup in a table of more than about a hundred
 * documents goes through the index. This is the `ferretdb` database's catalog only. Installed once per database;
 * idempotent.
 */
const ID_LOOKUP_INDEX_SQL = `
CREATE OR REPLACE FUNCTION tidemark_id_lookup_index() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = r.objid AND attname = '_jsonb' AND NOT attisdropped)
       AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = r.objid AND attname = '_ferretdb_record_id')
       AND r.object_identity NOT LIKE '%._ferretdb_database_metadata' THEN
      EXECUTE format('CREATE INDEX %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)', 'tidemark_id_gin_' || r.objid, r.object_identity, '_id');
    END IF;
  END LOOP;
END
$fn$;
ALTER FUNCTION pg_catalog.jsonb_object_field(jsonb, text) COST 50;
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'tidemark_id_lookup_index') THEN
    CREATE EVENT TRIGGER tidemark_id_lookup_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
      EXECUTE FUNCTION tidemark_id_lookup_index();
  END IF;
END $do$;
`;
