/**
 * The S3-compatible server for the S3 snapshot store: moto's server (Apache-2.0) from PyPI, in a virtualenv in the
 * cache (`python-venv.ts`). (MinIO's server is AGPL and is not used; S3Proxy 2.6 rejects the AWS SDK v3's default flexible checksums.)
 * moto keeps objects in memory: they last as long as the server process.
 */
import * as path from 'node:path';
import type { Layout } from './layout';
import { startDetached, waitFor, type StartedProcess } from './process';
import { MOTO_VENV, ensurePythonVenv, pythonVenvDir } from './python-venv';

export const S3_CREDENTIALS = {
  accessKeyId: 'tidemark',
  secretAccessKey: 'tidemark-secret',
  region: 'us-east-1',
};
export const S3_BUCKET = 'tidemark-snapshots';

export function motoVenv(l: Layout): string {
  return pythonVenvDir(l, MOTO_VENV);
}

export async function ensureMoto(l: Layout, log: (m: string) => void): Promise<string> {
  return path.join(await ensurePythonVenv(l, MOTO_VENV, log), 'bin', 'moto_server');
}

export function startS3(l: Layout, port: number): StartedProcess {
  const server = path.join(motoVenv(l), 'bin', 'moto_server');
  return startDetached('s3', server, ['-H', '127.0.0.1', '-p', String(port)], {
    log: path.join(l.logs, 's3.log'),
    marker: 'moto_server',
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
}

export async function s3Healthy(endpoint: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status < 500;
  } catch {
    return false;
  }
}

export async function waitS3(endpoint: string, proc: StartedProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor('s3', () => s3Healthy(endpoint), { timeoutMs, log: proc.log, pid: proc.pid });
}
