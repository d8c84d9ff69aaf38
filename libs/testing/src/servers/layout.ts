/**
 * Where the local servers keep their downloads, builds, data and logs.
 *
 * - cache (`$TIDEMARK_CACHE`, default `<root>/.cache`, git-ignored): Maven jars, the Go module download and the
 *   FerretDB binary, the Python virtualenv for the S3 server. Safe to delete; rebuilt on the next `infra up`.
 * - home (`$TIDEMARK_HOME`, default `<root>/.tidemark`, git-ignored): server data, logs and `infra.json`.
 */
import * as path from 'node:path';
import { tidemarkHome, workspaceRoot } from '@tidemark/config';

export interface Layout {
  root: string;
  cache: string;
  home: string;
  data: string;
  logs: string;
}

export function layout(env: NodeJS.ProcessEnv = process.env): Layout {
  const root = workspaceRoot(env);
  const home = tidemarkHome(env);
  return {
    root,
    cache: env['TIDEMARK_CACHE'] ?? path.join(root, '.cache'),
    home,
    data: path.join(home, 'data'),
    logs: path.join(home, 'logs'),
  };
}

/** Loopback ports of the local servers; each can be moved with its environment variable. */
export function ports(env: NodeJS.ProcessEnv = process.env) {
  const p = (name: string, dflt: number) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${v} is not a TCP port`);
    return n;
  };
  return {
    kafka: p('TIDEMARK_KAFKA_PORT', 19092),
    kafkaController: p('TIDEMARK_KAFKA_CONTROLLER_PORT', 19093),
    /** The broker's SASL_PLAINTEXT (SCRAM) listener, for the specs of the clients' SASL settings. */
    kafkaSasl: p('TIDEMARK_KAFKA_SASL_PORT', 19094),
    source: p('TIDEMARK_SOURCE_PORT', 27117),
    sourceDebug: p('TIDEMARK_SOURCE_DEBUG_PORT', 27118),
    backup: p('TIDEMARK_BACKUP_PORT', 27217),
    backupDebug: p('TIDEMARK_BACKUP_DEBUG_PORT', 27218),
    /** PostgreSQL under the source / backup FerretDB, when its backend is `postgresql`. */
    sourcePg: p('TIDEMARK_SOURCE_PG_PORT', 27119),
    backupPg: p('TIDEMARK_BACKUP_PG_PORT', 27219),
    s3: p('TIDEMARK_S3_PORT', 19000),
  };
}
