#!/usr/bin/env node
/**
 * Builds Tidemark's services for production: each `apps/<app>/src/main.ts` bundled by esbuild with the workspace
 * libraries (`@tidemark/*`, through tsconfig.base.json's paths) into one CommonJS file,
 * `<out>/apps/<app>/main.js` (+ source map), for Node 20. npm packages stay outside the bundle (`require`d from
 * `node_modules`, installed with `npm ci --omit=dev`); so does `schemas/`, read at run time from `<out>/../schemas`
 * (or `TIDEMARK_SCHEMAS_DIR`). Run as `node --enable-source-maps <out>/apps/<app>/main.js`: no TypeScript loader.
 *
 *   node tools/build/bundle-apps.mjs [--out DIR] [app ...]     default: every service and tool, into dist/
 *
 * An app's static files, `apps/<app>/assets/` (job-state's Backup page), are copied beside its bundle, to
 * `<out>/apps/<app>/assets/`, where the app reads them at start-up.
 *
 * Also `topics` (`tools/cli/src/topics-main.ts`, `tidemark topics ensure` alone) into `<out>/tools/topics/main.js`,
 * which the job-state image carries for the Kubernetes Job that declares the topics.
 *
 * Used by the Nx `build` target of each app, by `runtime-folder.mjs` (the Dockerfile's build), and so by
 * `libs/service-shell/test/service-boot.int-spec.ts`.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The services: the apps whose Nx project has a `build` target (the same six as `SERVICE_NAMES` of @tidemark/config). */
export const SERVICES = readdirSync(path.join(ROOT, 'apps'))
  .filter((app) => {
    const project = path.join(ROOT, 'apps', app, 'project.json');
    return existsSync(project) && JSON.parse(readFileSync(project, 'utf8')).targets?.build !== undefined;
  })
  .sort();
/** Programs other than the services: name → entry and output (relative to the workspace and to `out`). */
export const TOOLS = {
  topics: { entry: 'tools/cli/src/topics-main.ts', output: 'tools/topics/main.js' },
};
const BUILDABLE = [...SERVICES, ...Object.keys(TOOLS)];

/** Bundles `apps` (services and tools) into `out`; resolves to `[{ app, file, bytes }]`; rejects on any error. */
export async function bundleApps(apps = BUILDABLE, out = path.join(ROOT, 'dist')) {
  for (const app of apps) {
    if (!BUILDABLE.includes(app))
      throw new Error(`unknown program ${JSON.stringify(app)}: one of ${BUILDABLE.join(', ')}`);
  }
  const built = [];
  for (const app of apps) {
    const tool = Object.hasOwn(TOOLS, app) ? TOOLS[app] : undefined;
    const file = path.join(out, tool?.output ?? path.join('apps', app, 'main.js'));
    await build({
      absWorkingDir: ROOT,
      entryPoints: [tool?.entry ?? path.join('apps', app, 'src', 'main.ts')],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      tsconfig: 'tsconfig.base.json',
      sourcemap: true,
      sourcesContent: false,
      logLevel: 'warning',
      // Nest's decorators run as TypeScript's experimentalDecorators (tsconfig); no decorator metadata is emitted
      // (emitDecoratorMetadata is off in development too), so every injection names its token.
      keepNames: true,
    });
    const assets = path.join(ROOT, 'apps', app, 'assets');
    if (tool === undefined && existsSync(assets)) {
      const copy = path.join(path.dirname(file), 'assets');
      rmSync(copy, { recursive: true, force: true });
      cpSync(assets, copy, { recursive: true, filter: (src) => !src.endsWith('.d.mts') });
    }
    built.push({ app, file, bytes: statSync(file).size });
  }
  return built;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out = path.join(ROOT, 'dist');
  const apps = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') {
      if (args[i + 1] === undefined) {
        process.stderr.write('bundle-apps: --out needs a directory\n');
        process.exit(2);
      }
      out = path.resolve(args[++i]);
    } else apps.push(args[i]);
  }
  bundleApps(apps.length > 0 ? apps : BUILDABLE, out).then(
    (built) => {
      for (const b of built)
        process.stdout.write(`${path.relative(process.cwd(), b.file)}\t${(b.bytes / 1024).toFixed(0)} KiB\n`);
    },
    (err) => {
      process.stderr.write(`bundle-apps: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
