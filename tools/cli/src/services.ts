/**
 * `tidemark up|down|status`: the servers plus the six Tidemark services as local processes.
 * Each service is started with `node --import tsx apps/<name>/src/main.ts` and is ready when its /readyz says so.
 * job-state's admin key and the services' token come from the environment when set; otherwise `up` makes each once,
 * from the CSPRNG, into a file readable only by the user under `$TIDEMARK_HOME/credentials/` and passes its path
 * (`TIDEMARK_ADMIN_KEY_FILE`, `TIDEMARK_SERVICE_TOKEN_FILE`).
 */
import { randomBytes } from 'node:crypto';
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

/** The local admin key's file (`tidemark up` makes it); the CLI reads it with `TIDEMARK_API_KEY_FILE`. */
export function localAdminKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(layout(env).home, 'credentials', 'admin-key');
}

/** A secret file made once (mode 0600), then reused. */
function secretFile(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}

/** The credential variables for the local services: the environment's own, or the local files. */
export function localCredentialEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const given = (name: string) => (env[name] ?? '') !== '' || (env[`${name}_FILE`] ?? '') !== '';
  const dir = path.dirname(localAdminKeyFile(env));
  return {
    ...(given('TIDEMARK_ADMIN_KEY') ? {} : { TIDEMARK_ADMIN_KEY_FILE: secretFile(localAdminKeyFile(env)) }),
    ...(given('TIDEMARK_SERVICE_TOKEN')
      ? {}
      : { TIDEMARK_SERVICE_TOKEN_FILE: secretFile(path.join(dir, 'service-token')) }),
  };
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
  const credentials = localCredentialEnv(env);
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
        ...credentials,
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
