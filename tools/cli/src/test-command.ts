/**
 * `tidemark test`: the README's test command (`npm test`). Finds the spec files, makes sure the real servers are
 * up when integration specs are selected (starting them, and stopping them afterwards, when they were not up), and
 * runs everything in ONE `node --test` process tree so the output ends with the runner's summary.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ensureFerretdb,
  ensureK8sCheck,
  ensureTestCredentials,
  ensurePromtool,
  infraDown,
  infraStatus,
  infraUp,
  layout,
  standInTailEnv,
  startContainers,
  type StartedContainers,
} from '@tidemark/testing';

export interface TestOptions {
  unit: boolean;
  integration: boolean;
  only: string[];
  keepInfra: boolean;
  concurrency: number;
  /** Run the shared servers as containers (testcontainers; needs a Docker daemon) instead of local processes. */
  containers: boolean;
}

const SEARCH_ROOTS = ['apps', 'libs', 'tools'];

export function findSpecs(root: string, opts: Pick<TestOptions, 'unit' | 'integration' | 'only'>): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (opts.integration && e.name.endsWith('.int-spec.ts')) out.push(p);
      else if (opts.unit && e.name.endsWith('.spec.ts') && !e.name.endsWith('.int-spec.ts')) out.push(p);
    }
  };
  for (const r of SEARCH_ROOTS) if (fs.existsSync(path.join(root, r))) visit(path.join(root, r));
  const only = opts.only.map((o) => path.resolve(root, o));
  return out
    .filter((f) => only.length === 0 || only.some((o) => f === o || f.startsWith(o + path.sep)))
    .sort();
}

async function serversHealthy(): Promise<boolean> {
  try {
    const s = await infraStatus();
    return s.kafka.healthy && s.source.healthy && s.backup.healthy && s.s3.healthy;
  } catch {
    return false;
  }
}

/**
 * Spec files named `*.solo.int-spec.ts` run alone, after all the others: they measure timing (fairness between
 * jobs, the read limit's rates) that the load of other suites running beside them on a small machine would distort,
 * or load the machine enough on their own (the scaling spec's eight jobs and nine services).
 */
export function isSolo(file: string): boolean {
  return file.endsWith('.solo.int-spec.ts');
}

/** One `node --test` run of `files`; resolves its exit code. */
function nodeTest(
  root: string,
  files: string[],
  concurrency: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        // Per test file: the end-to-end file (100k-document sync, then the crash run) takes 10-16 minutes on two cores.
        '--test-timeout=2400000',
        ...files.map((f) => path.relative(root, f)),
      ],
      { cwd: root, stdio: 'inherit', env },
    );
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

export async function runTests(opts: TestOptions, log: (m: string) => void): Promise<number> {
  const root = layout().root;
  const files = findSpecs(root, opts);
  if (files.length === 0) {
    log('no spec files matched');
    return 1;
  }
  const needsServers = files.some((f) => f.endsWith('.int-spec.ts'));
  let started = false;
  let containers: StartedContainers | undefined;
  if (needsServers && opts.containers) {
    log('starting the servers as containers (testcontainers)');
    containers = await startContainers(log);
    // The resync suite still runs a FerretDB of its own: a real MongoDB oplog cannot be capped small enough to
    // roll over in a test (990 MB at least).
    await ensureFerretdb(layout(), log);
  } else if (needsServers && !(await serversHealthy())) {
    log('servers are not up: starting them (tidemark infra up)');
    await infraUp(log);
    started = true;
  }
  if (files.some((f) => f.endsWith(`${path.sep}alert-rules.int-spec.ts`))) {
    // Built once into the cache (minutes on a fresh machine), before the specs, not while they compete for the CPU.
    await ensurePromtool(layout(), log);
  }
  if (files.some((f) => f.endsWith(`${path.sep}k8s-manifests.int-spec.ts`))) {
    // The same for the manifests' validator (tools/k8s-check): 80 s with empty caches here.
    await ensureK8sCheck(layout(), log);
  }
  const unitCount = files.filter((f) => !f.endsWith('.int-spec.ts')).length;
  const solo = files.filter(isSolo);
  const shared = files.filter((f) => !isSolo(f));
  log(
    `running ${files.length} spec files (${unitCount} unit, ${files.length - unitCount} integration` +
      (solo.length > 0
        ? `; ${solo.length} alone, after the others: ${solo.map((f) => path.basename(f)).join(', ')}`
        : '') +
      ')',
  );
  // One admin key and service token for the whole run (job-state needs both; specs and the CLI send them).
  const env = ensureTestCredentials({
    ...process.env,
    ...(containers ? containers.env : standInTailEnv(process.env)),
    TIDEMARK_ROOT: root,
    TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  try {
    let code = 0;
    if (shared.length > 0) code = await nodeTest(root, shared, opts.concurrency, env);
    if (solo.length > 0) {
      log(`running ${solo.length} spec file(s) alone`);
      const soloCode = await nodeTest(root, solo, 1, env);
      if (code === 0) code = soloCode;
    }
    return code;
  } finally {
    if (containers) {
      log('removing the containers this run started');
      await containers.stop();
    }
    if (started && !opts.keepInfra) {
      log('stopping the servers this run started');
      await infraDown(log);
    }
  }
}
