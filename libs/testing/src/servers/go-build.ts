/**
 * Building Go programs from the Go module proxy into the cache (`<cache>/bin`), the one way every Go tool the
 * project needs is built (FerretDB, promtool): the module cache and the build cache under the cache folder, the
 * machine's own Go (`GOTOOLCHAIN=local`), no telemetry (`GOTELEMETRY=off`; `go telemetry off` is per user), no VCS
 * stamping, a static binary.
 */
import * as path from 'node:path';
import type { Layout } from './layout';
import { run } from './process';

export function goEnv(l: Layout): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: path.join(l.cache, 'go', 'mod'),
    GOCACHE: path.join(l.cache, 'go', 'build'),
    GOFLAGS: '-modcacherw -buildvcs=false',
    GOTOOLCHAIN: 'local',
    GOTELEMETRY: 'off',
    CGO_ENABLED: '0',
  };
}

/** Downloads `module@version` into the module cache (`go mod download -json`) and returns its directory. */
export async function downloadGoModule(l: Layout, module: string, version: string): Promise<string> {
  const info = JSON.parse(
    await run(`${module} download`, 'go', ['mod', 'download', '-json', `${module}@${version}`], {
      env: goEnv(l),
    }),
  ) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`${module} download: ${info.Error ?? 'no module directory reported'}`);
  return info.Dir;
}
