/**
 * Python tools from PyPI, each in a virtualenv of its own in the cache (`<cache>/<name>`), installed once with
 * pinned requirements and marked complete only after pip succeeded: moto's S3 server, pymongo for the
 * independent dump checker (`tools/dump-check/check_dump.py`), schemathesis for job-state's API
 * (`apps/job-state/test/schemathesis.int-spec.ts`), and kafka-python with fastavro for the example audit consumer
 * (`examples/audit-consumer/consume.py`). `infra up` prepares both; a spec that needs one calls
 * its `ensure*`, which returns at once when it is there.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Layout } from './layout';
import { run } from './process';
import { SERVER_VERSIONS } from './versions';

export interface PythonVenv {
  /** Directory name in the cache; carries the pinned version, so an upgrade makes a new one. */
  readonly name: string;
  /** What the log says is being installed. */
  readonly what: string;
  /** pip requirements, each pinned with `==`. */
  readonly requirements: readonly string[];
}

export function pythonVenvDir(l: Layout, venv: PythonVenv): string {
  return path.join(l.cache, venv.name);
}

/** Creates the virtualenv and installs its requirements unless a complete one is there; returns its directory. */
export async function ensurePythonVenv(
  l: Layout,
  venv: PythonVenv,
  log: (m: string) => void,
): Promise<string> {
  const dir = pythonVenvDir(l, venv);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  log(`installing ${venv.what} from PyPI (first run only)`);
  fs.rmSync(dir, { recursive: true, force: true });
  const python = process.env['PYTHON'] ?? 'python3';
  await run(`${venv.name} venv`, python, ['-m', 'venv', dir]);
  await run(`${venv.name} install`, path.join(dir, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    ...venv.requirements,
  ]);
  fs.writeFileSync(done, new Date().toISOString());
  return dir;
}

/** moto's S3 server (Apache-2.0). */
export const MOTO_VENV: PythonVenv = {
  name: `moto-${SERVER_VERSIONS.moto}`,
  what: `moto ${SERVER_VERSIONS.moto} (S3 server)`,
  requirements: [`moto[server]==${SERVER_VERSIONS.moto}`],
};

/** pymongo (Apache-2.0), whose `bson` package the independent dump checker decodes with. */
export const DUMP_CHECK_VENV: PythonVenv = {
  name: `dump-check-pymongo-${SERVER_VERSIONS.pymongo}`,
  what: `pymongo ${SERVER_VERSIONS.pymongo} (dump checker)`,
  requirements: [`pymongo==${SERVER_VERSIONS.pymongo}`],
};

/** schemathesis (MIT): property-based tests of job-state against the OpenAPI document it serves. */
export const SCHEMATHESIS_VENV: PythonVenv = {
  name: `schemathesis-${SERVER_VERSIONS.schemathesis}`,
  what: `schemathesis ${SERVER_VERSIONS.schemathesis} (API tests)`,
  requirements: [`schemathesis==${SERVER_VERSIONS.schemathesis}`],
};

/**
 * The example audit consumer's requirements (`examples/audit-consumer/requirements.txt`, the one place its pins are
 * written: a user installs the same file). Each line must pin with `==`; the cache directory is named by the file's
 * hash, so changing a pin installs a new virtualenv.
 */
export function auditConsumerVenv(l: Layout): PythonVenv {
  const file = path.join(l.root, 'examples', 'audit-consumer', 'requirements.txt');
  const text = fs.readFileSync(file, 'utf8');
  const requirements = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0);
  for (const r of requirements)
    if (!/^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+$/.test(r))
      throw new Error(`${file}: "${r}" is not pinned with ==`);
  const hash = createHash('sha256').update(requirements.join('\n')).digest('hex').slice(0, 12);
  return {
    name: `audit-consumer-${hash}`,
    what: `${requirements.join(', ')} (example audit consumer)`,
    requirements,
  };
}

/** The Python that runs `examples/audit-consumer/consume.py`, installed first when needed. */
export async function ensureAuditConsumerPython(l: Layout, log: (m: string) => void): Promise<string> {
  return path.join(await ensurePythonVenv(l, auditConsumerVenv(l), log), 'bin', 'python');
}

/** The `schemathesis` command, installed first when needed. */
export async function ensureSchemathesis(l: Layout, log: (m: string) => void): Promise<string> {
  return path.join(await ensurePythonVenv(l, SCHEMATHESIS_VENV, log), 'bin', 'schemathesis');
}

/** The Python that runs `tools/dump-check/check_dump.py`, installed first when needed. */
export async function ensureDumpCheckPython(l: Layout, log: (m: string) => void): Promise<string> {
  return path.join(await ensurePythonVenv(l, DUMP_CHECK_VENV, log), 'bin', 'python');
}
