#!/usr/bin/env node
/**
 * Makes the folder a Tidemark image runs from, with exactly the steps `docker/Dockerfile` runs (it calls this
 * script): install the production dependencies at the locked versions (`npm ci --omit=dev`), build every service
 * (`bundle-apps.mjs`), and add the Avro schemas the services read at run time. The result:
 *
 *   <out>/package.json, package-lock.json, node_modules/   production dependencies only
 *   <out>/dist/apps/<service>/main.js(.map)                one bundle per service
 *   <out>/dist/apps/job-state/assets/backup-page/         the Backup page's files (copied by bundle-apps.mjs)
 *   <out>/dist/tools/topics/main.js(.map)                  `tidemark topics` alone (the topics Job)
 *   <out>/schemas/<area>/*.avsc, history/                  no golden fixtures
 *
 * Each service then starts as the image's CMD does: `node --enable-source-maps dist/apps/<service>/main.js`, from
 * `<out>`. `libs/service-shell/test/service-boot.int-spec.ts` builds one and boots every bundle from it.
 *
 *   node tools/build/runtime-folder.mjs OUT
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleApps } from './bundle-apps.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fills `out` (created when missing; must not hold an earlier build's node_modules of other versions). */
export async function makeRuntimeFolder(out) {
  mkdirSync(out, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, f), path.join(out, f));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: out,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, npm_config_update_notifier: 'false', NODE_ENV: 'production' },
  });
  const built = await bundleApps(undefined, path.join(out, 'dist'));
  const schemas = path.join(ROOT, 'schemas');
  cpSync(schemas, path.join(out, 'schemas'), {
    recursive: true,
    filter: (src) => path.basename(src) !== 'fixtures',
  });
  if (!existsSync(path.join(out, 'node_modules', 'kafkajs')))
    throw new Error(`${out}: npm ci installed no kafkajs`);
  return { built, schemaAreas: readdirSync(path.join(out, 'schemas')).length };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined || process.argv.length > 3) {
    process.stderr.write('usage: node tools/build/runtime-folder.mjs OUT\n');
    process.exit(2);
  }
  makeRuntimeFolder(path.resolve(out)).then(
    ({ built }) => {
      for (const b of built)
        process.stdout.write(
          `${b.app}\t${path.relative(process.cwd(), b.file)}\t${(b.bytes / 1024).toFixed(0)} KiB\n`,
        );
    },
    (err) => {
      process.stderr.write(`runtime-folder: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
