/**
 * Where a Docker engine answers, `docker build` every target of `docker/Dockerfile` (the six services). This
 * machine and CI have none: the test is then skipped, saying so, and what the images run is proven by
 * `libs/service-shell/test/service-boot.int-spec.ts` booting every bundle from a folder made by the same script.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { SERVICE_NAMES } from '@tidemark/config';

const ROOT = path.resolve(__dirname, '..', '..');

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

const noDocker = dockerAnswers()
  ? false
  : 'no Docker engine answers (`docker info` failed): images not built here';

describe('docker/Dockerfile', () => {
  for (const service of SERVICE_NAMES) {
    it(`builds the ${service} image`, { skip: noDocker, timeout: 900_000 }, async () => {
      const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(
          'docker',
          ['build', '-f', 'docker/Dockerfile', '--target', service, '-t', `tidemark/${service}:ci`, '.'],
          { cwd: ROOT, env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 << 20 },
          (err, _stdout, err2) => resolve({ code: err === null ? 0 : 1, stderr: err2 }),
        );
      });
      assert.equal(code, 0, stderr.slice(-4000));
    });
  }
});
