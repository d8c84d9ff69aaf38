/**
 * promtool (Apache-2.0), Prometheus' rule checker, built from the Go module proxy into the cache once, the way
 * FerretDB is built (`go-build.ts`): `go mod download` of the prometheus module, then `go build ./cmd/promtool` in
 * the downloaded module (the module cache is writable: `-modcacherw`). The specs of `deploy/prometheus/` run it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadGoModule, goEnv } from './go-build';
import type { Layout } from './layout';
import { run } from './process';
import { SERVER_VERSIONS } from './versions';

const MODULE = 'github.com/prometheus/prometheus';

export function promtoolBinary(l: Layout): string {
  return path.join(l.cache, 'bin', `promtool-${SERVER_VERSIONS.prometheus}`);
}

/** Downloads and builds promtool into the cache, once (several minutes on two cores: the module is large). */
export async function ensurePromtool(l: Layout, log: (m: string) => void): Promise<string> {
  const bin = promtoolBinary(l);
  if (fs.existsSync(bin)) return bin;
  log(`building promtool ${SERVER_VERSIONS.prometheus} from the Go module proxy (first run only)`);
  const moduleDir = await downloadGoModule(l, MODULE, SERVER_VERSIONS.prometheus);
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp`;
  await run('promtool build', 'go', ['build', '-trimpath', '-o', tmp, './cmd/promtool'], {
    cwd: moduleDir,
    // The module ships a go.work naming folders its download leaves out; build the module alone.
    env: { ...goEnv(l), GOWORK: 'off' },
  });
  fs.renameSync(tmp, bin);
  return bin;
}
