/**
 * Starting and stopping the local servers' processes. Every process is started detached, in its own process
 * group, with its output in a log file; `stopProcess` stops exactly the pid it is given, and only after checking
 * (through /proc) that the pid still runs the command we started, so a recycled pid is never signalled.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StartedProcess {
  name: string;
  pid: number;
  log: string;
  /** A substring of /proc/<pid>/cmdline that identifies the process as ours. */
  marker: string;
}

export function startDetached(
  name: string,
  command: string,
  args: string[],
  opts: { log: string; cwd?: string; env?: NodeJS.ProcessEnv; marker: string },
): StartedProcess {
  fs.mkdirSync(path.dirname(opts.log), { recursive: true });
  const fd = fs.openSync(opts.log, 'a');
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  child.unref();
  return { name, pid: child.pid, log: opts.log, marker: opts.marker };
}

export function isAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (marker === undefined) return true;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(
  p: { pid: number; marker?: string },
  graceMs = 20_000,
): Promise<'stopped' | 'not-running'> {
  if (!isAlive(p.pid, p.marker)) return 'not-running';
  signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(p.pid)) return 'stopped';
    await new Promise((r) => setTimeout(r, 100));
  }
  signal(p.pid, 'SIGKILL');
  while (isAlive(p.pid)) await new Promise((r) => setTimeout(r, 50));
  return 'stopped';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole process group started by startDetached
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Runs a build/download step; resolves with its stdout, rejects with the tail of its output when it fails. */
export function run(
  what: string,
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => reject(new Error(`${what}: ${command} failed to start: ${e.message}`)));
    child.once('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolve(stdout);
      const text = `${stdout}\n${Buffer.concat(err).toString('utf8')}`
        .trim()
        .split('\n')
        .slice(-30)
        .join('\n');
      reject(new Error(`${what}: \`${command} ${args.join(' ')}\` exited with ${String(code)}\n${text}`));
    });
  });
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; log?: string; pid?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (opts.pid !== undefined && !isAlive(opts.pid)) {
      throw new Error(
        `${what} exited during start-up${opts.log ? `; last lines of ${opts.log}:\n${tail(opts.log)}` : ''}`,
      );
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  const reason = lastErr instanceof Error ? `: ${lastErr.message}` : '';
  throw new Error(
    `${what} not healthy after ${opts.timeoutMs} ms${reason}${opts.log ? `; last lines of ${opts.log}:\n${tail(opts.log)}` : ''}`,
  );
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
