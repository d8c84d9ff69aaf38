/**
 * k8s-check (`tools/k8s-check`, the project's own Go program): renders the kustomizations of `deploy/k8s/` with
 * kustomize's API and validates every rendered object strictly and offline (k8s.io/api types, KEDA's CRD schemas).
 * Built the way promtool and FerretDB are (`go-build.ts`: module and build caches under the cache folder, the
 * machine's Go, no telemetry), from the repository's own module rather than a downloaded one. The binary is named by
 * a hash of the module's sources, so an edit to the tool (or its vendored CRDs) builds it anew.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { goEnv } from './go-build';
import type { Layout } from './layout';
import { run } from './process';

/** The tool's Go module and the kustomizations it checks in `npm test`. */
export function k8sCheckPaths(l: Layout) {
  const k8s = path.join(l.root, 'deploy', 'k8s');
  return {
    module: path.join(l.root, 'tools', 'k8s-check'),
    overlays: [path.join(k8s, 'overlays', 'dev'), path.join(k8s, 'overlays', 'prod')],
  } as const;
}

/** Every file the binary is built from (go.mod, go.sum, the .go files, the embedded CRDs and their licence), sorted. */
function sourceFiles(moduleDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.go$|^go\.(mod|sum)$/.test(e.name) || path.basename(dir) === 'crds') files.push(p);
    }
  };
  walk(moduleDir);
  return files.sort();
}

export function k8sCheckBinary(l: Layout): string {
  const moduleDir = k8sCheckPaths(l).module;
  const hash = createHash('sha256');
  for (const f of sourceFiles(moduleDir)) {
    hash.update(path.relative(moduleDir, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  }
  return path.join(l.cache, 'bin', `k8s-check-${hash.digest('hex').slice(0, 16)}`);
}

/**
 * Builds k8s-check into the cache unless this version of its sources is built already; returns the binary. The
 * first build on a machine downloads its modules (k8s.io/api, k8s.io/apimachinery, sigs.k8s.io/kustomize/api) from
 * the Go module proxy: 80 s here with empty module and build caches (two cores, load about 3), 6 min 48 s under a
 * concurrent CI run (tools/k8s-check/README.md).
 */
export async function ensureK8sCheck(l: Layout, log: (m: string) => void): Promise<string> {
  const bin = k8sCheckBinary(l);
  if (fs.existsSync(bin)) return bin;
  log(`building k8s-check (${path.basename(bin)}) from tools/k8s-check`);
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp`;
  await run('k8s-check build', 'go', ['build', '-trimpath', '-o', tmp, '.'], {
    cwd: k8sCheckPaths(l).module,
    env: { ...goEnv(l), GOWORK: 'off' },
  });
  fs.renameSync(tmp, bin);
  return bin;
}
