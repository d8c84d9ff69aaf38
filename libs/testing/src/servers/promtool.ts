/**
 * promtool (Apache-2.0), Prometheus' rule checker, built from the Go module proxy into the cache once, the way
 * FerretDB is built (`go-build.ts`): `go mod download` of the prometheus module, then `go build ./cmd/promtool` in
 * the downloaded module (the module cache is writable: `-modcacherw`) with Prometheus' documented build tag
 * `remove_all_sd`: no optional service discovery (cloud SDKs, Kubernetes client), which rule checks never use and
 * which made the build take 5x as long (about 2 min instead of 12 here). The specs of `deploy/prometheus/` run it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadGoModule, goEnv } from './go-build';
import type { Layout } from './layout';
import { run } from './process';
import { SERVER_VERSIONS } from './versions';

const MODULE = 'github.com/prometheus/prometheus';

export function promtoolBinary(l: Layout): string {
  return path.join(l.cache, 'bin', `promtool-${SERVER_VERSIONS.prometheus}-remove_all_sd`);
}

/** Downloads and builds promtool into the cache, once (about 2 minutes on two cores). */
export async function ensurePromtool(l: Layout, log: (m: string) => void): Promise<string> {
  const bin = promtoolBinary(l);
  if (fs.existsSync(bin)) return bin;
  log(`building promtool ${SERVER_VERSIONS.prometheus} from the Go module proxy (first run only)`);
  const moduleDir = await downloadGoModule(l, MODULE, SERVER_VERSIONS.prometheus);
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp`;
  await run(
    'promtool build',
    'go',
    ['build', '-trimpath', '-tags', 'remove_all_sd', '-o', tmp, './cmd/promtool'],
    {
      cwd: moduleDir,
      // The module ships a go.work naming folders its download leaves out; build the module alone.
      env: { ...goEnv(l), GOWORK: 'off' },
    },
  );
  fs.renameSync(tmp, bin);
  return bin;
}
