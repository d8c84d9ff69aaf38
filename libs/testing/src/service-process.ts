/**
 * A Tidemark service as deployed, in a child process (`node --import tsx apps/<name>/src/main.ts`), for specs that
 * need another app running beside the one they test: resolves once the service logs `{"event":"ready","port":N}`
 * (or rejects with its output when it exits or is not ready in time). `PORT` defaults to 0 (any free port); the
 * test run's credentials (`credentials.ts`) are in its environment unless `env` gives others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { testCredentialEnv } from './credentials';

export interface ServiceProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  /** Every line it printed so far (stdout and stderr). */
  readonly lines: string[];
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');

export async function startServiceProcess(
  name: string,
  env: NodeJS.ProcessEnv,
  readyTimeoutMs = 90_000,
): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', `apps/${name}/src/main.ts`], {
    cwd: ROOT,
    // The run's admin key and service token (credentials.ts) unless `env` gives its own.
    env: { PORT: '0', HOST: '127.0.0.1', ...testCredentialEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const ready = new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      lines.push(line);
      try {
        const parsed = JSON.parse(line) as { event?: string; port?: number };
        if (parsed.event === 'ready' && typeof parsed.port === 'number') resolve(parsed.port);
      } catch {
        // not JSON
      }
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => lines.push(line));
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${lines.join('\n')}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} not ready:\n${lines.join('\n')}`)),
          readyTimeoutMs,
        );
      }),
    ]);
    return {
      proc,
      url: `http://127.0.0.1:${port}`,
      lines,
      stop: async () => {
        if (proc.exitCode === null) proc.kill('SIGTERM');
        await exited;
      },
    };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
