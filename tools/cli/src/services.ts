/**
 * `tidemark up|down|status`: the servers plus the six Tidemark services as local processes.
 * Each service is started with `node --import tsx apps/<name>/src/main.ts` and is ready when its /readyz says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_PORTS, SERVICE_NAMES } from '@tidemark/config';
import {
  isAlive,
  layout,
  standInTailEnv,
  startDetached,
  stopProcess,
  tail,
  waitFor,
} from '@tidemark/testing';

/** The services and their local HTTP ports (health, readiness; job-state's REST API). */
export const SERVICES = SERVICE_NAMES.map((name) => ({ name, port: DEFAULT_PORTS[name] }));

interface ServiceProc {
  name: string;
  pid: number;
  port: number;
  log: string;
  marker: string;
}

function stateFile(env: NodeJS.ProcessEnv): string {
  return path.join(layout(env).home, 'services.json');
}

function readServices(env: NodeJS.ProcessEnv): ServiceProc[] {
  try {
    return JSON.parse(fs.readFileSync(stateFile(env), 'utf8')) as ServiceProc[];
  } catch {
    return [];
  }
}

function writeServices(env: NodeJS.ProcessEnv, procs: ServiceProc[]): void {
  fs.mkdirSync(path.dirname(stateFile(env)), { recursive: true });
  fs.writeFileSync(stateFile(env), `${JSON.stringify(procs, null, 2)}\n`);
}

export async function readyz(port: number): Promise<{ ok: boolean; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
    return { ok: res.status === 200, body: await res.text() };
  } catch (err) {
    return { ok: false, body: err instanceof Error ? err.message : String(err) };
  }
}

export async function servicesUp(
  log: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const l = layout(env);
  const procs = readServices(env).filter((p) => isAlive(p.pid, p.marker));
  for (const svc of SERVICES) {
    if (procs.some((p) => p.name === svc.name)) continue;
    const main = path.join(l.root, 'apps', svc.name, 'src', 'main.ts');
    const proc = startDetached(svc.name, process.execPath, ['--import', 'tsx', main], {
      log: path.join(l.logs, `${svc.name}.log`),
      cwd: l.root,
      marker: main,
      env: {
        ...env,
        ...standInTailEnv(env),
        PORT: String(svc.port),
        TIDEMARK_ROOT: l.root,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    procs.push({ name: svc.name, pid: proc.pid, port: svc.port, log: proc.log, marker: main });
    writeServices(env, procs);
  }
  await Promise.all(
    procs.map((p) =>
      waitFor(p.name, async () => (await readyz(p.port)).ok, {
        timeoutMs: 90_000,
        intervalMs: 500,
        log: p.log,
        pid: p.pid,
      }),
    ),
  );
  for (const p of procs) log(`${p.name.padEnd(14)} ready  http://127.0.0.1:${p.port}/readyz  (pid ${p.pid})`);
}

export async function servicesDown(
  log: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const procs = readServices(env);
  await Promise.all(
    procs.map(async (p) => {
      const res = await stopProcess(p, 15_000);
      log(`${p.name} (pid ${p.pid}): ${res}`);
    }),
  );
  fs.rmSync(stateFile(env), { force: true });
}

export async function servicesStatus(env: NodeJS.ProcessEnv = process.env) {
  const procs = readServices(env);
  return Promise.all(
    SERVICES.map(async (svc) => {
      const proc = procs.find((p) => p.name === svc.name);
      const running = proc ? isAlive(proc.pid, proc.marker) : false;
      const ready = running ? await readyz(svc.port) : { ok: false, body: 'not running' };
      return {
        name: svc.name,
        port: svc.port,
        pid: proc?.pid ?? null,
        running,
        ready: ready.ok,
        detail: ready.ok ? undefined : running ? ready.body : proc ? tail(proc.log, 3) : 'not started',
      };
    }),
  );
}
