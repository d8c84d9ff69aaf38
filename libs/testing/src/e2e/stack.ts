/**
 * The six services as child processes, for end-to-end and crash tests: each started with
 * `node --import tsx apps/<name>/src/main.ts` on a free port, with the environment the test gives (topic prefix,
 * database names) and the test run's credentials (`credentials.ts`), and each killable (SIGKILL) and restartable on
 * its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@tidemark/config';
import { testCredentialEnv } from '../credentials';
import { standInTailEnv } from '../servers/ferretdb';
import { layout } from '../servers/layout';

export { SERVICE_NAMES };
export type StackService = ServiceName;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free loopback port for a service or server a test starts, drawn at random from 20000-32767: below Linux's
 * ephemeral range (32768-60999), which the kernel hands to every `listen(0)` and outgoing connection. A service
 * restarted after SIGKILL must get its port back; a port from the ephemeral range could meanwhile have been given
 * to another suite's process (seen: a restarted job-state failed with EADDRINUSE, and the test talked to another
 * suite's job-state).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port in 20000-32767 after 100 tries');
}

interface Running {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/**
 * Extra flags for each service's `node` (TIDEMARK_STACK_NODE_ARGS, space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the services of a spec or of the benchmark.
 */
function nodeArgs(): string[] {
  return (process.env['TIDEMARK_STACK_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

export class ServiceStack {
  private readonly running = new Map<StackService, Running>();
  private readonly ports = new Map<StackService, number>();
  readonly logDir: string;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    name: string,
  ) {
    this.logDir = path.join(layout().home, 'logs', 'e2e', name);
    fs.mkdirSync(this.logDir, { recursive: true });
  }

  /** Base URL of job-state's API (started first by `startAll`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.get('job-state') ?? 0}`;
  }

  /** Base URL of a started service (its probes and `/metrics`). */
  urlOf(name: StackService): string {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`${name} was never started`);
    return `http://127.0.0.1:${port}`;
  }

  async startAll(services: readonly StackService[] = SERVICE_NAMES): Promise<void> {
    for (const s of services) await this.start(s);
  }

  async start(name: StackService): Promise<void> {
    if (this.running.has(name)) throw new Error(`${name} is already running`);
    const port = this.ports.get(name) ?? (await freePort());
    this.ports.set(name, port);
    const root = layout().root;
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), 'a');
    const child = spawn(
      process.execPath,
      [...nodeArgs(), '--import', 'tsx', path.join(root, 'apps', name, 'src', 'main.ts')],
      {
        cwd: root,
        env: {
          // The end-to-end specs measure capture; scheduled snapshots (each pauses applying while it copies the
          // head) would run during their catch-up. A spec that wants them sets TIDEMARK_SNAPSHOT_TICK_MS; on-demand
          // snapshots run whatever it is.
          TIDEMARK_SNAPSHOT_TICK_MS: String(24 * 3_600_000),
          ...process.env,
          // The run's admin key and service token (job-state needs both; the agent sends the token).
          ...testCredentialEnv(),
          ...standInTailEnv({ ...process.env, ...this.env }),
          ...this.env,
          PORT: String(port),
          // A stack of extra replicas (no job-state of its own) names the first stack's in its env.
          TIDEMARK_API_URL:
            this.env['TIDEMARK_API_URL'] ??
            (this.apiUrl === 'http://127.0.0.1:0' ? `http://127.0.0.1:${port}` : this.apiUrl),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', log, log],
      },
    );
    fs.closeSync(log);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.running.set(name, { child, port, exited });
    await this.waitReady(name, 90_000);
  }

  async waitReady(name: StackService, timeoutMs: number): Promise<void> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (r.child.exitCode !== null)
        throw new Error(`${name} exited with ${r.child.exitCode}; see ${this.logDir}/${name}.log`);
      try {
        const res = await fetch(`http://127.0.0.1:${r.port}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((res) => setTimeout(res, 300));
    }
    throw new Error(`${name} not ready after ${timeoutMs} ms; see ${this.logDir}/${name}.log`);
  }

  /** The pid of a running service (for memory figures). */
  pid(name: StackService): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  /** SIGKILL: the process gets no chance to flush, commit or close anything. */
  async kill(name: StackService): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    r.child.kill('SIGKILL');
    await r.exited;
    this.running.delete(name);
  }

  async restart(name: StackService): Promise<void> {
    await this.kill(name);
    await this.start(name);
  }

  /** SIGTERM to everything, newest first; SIGKILL after 15 s. */
  async stopAll(): Promise<void> {
    for (const [name, r] of [...this.running.entries()].reverse()) {
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
      await r.exited;
      clearTimeout(timer);
      this.running.delete(name);
    }
  }
}
