/** What the benchmarks share: reading their settings from the environment, timing and printing. */
import * as fs from 'node:fs';

/** A positive number from the environment variable `name`, else `dflt`; throws naming the variable. */
export function positiveFromEnv(name: string, dflt: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

/** The phases `TIDEMARK_BENCH_PHASES` (comma-separated) names, all of `known` by default; throws on an unknown one. */
export function phasesFromEnv(known: readonly string[], env: NodeJS.ProcessEnv = process.env): Set<string> {
  const phases = new Set((env['TIDEMARK_BENCH_PHASES'] ?? known.join(',')).split(','));
  for (const p of phases) {
    if (!known.includes(p))
      throw new RangeError(`TIDEMARK_BENCH_PHASES: unknown phase ${p} (${known.join(', ')})`);
  }
  return phases;
}

export const MB = 1e6;
export const hr = (): bigint => process.hrtime.bigint();
/** A progress line on stderr, stamped with the time of day. */
export const log = (m: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
/** `x` with `d` decimals, `?` when not finite. */
export const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '?');

/**
 * User + system CPU seconds of a process so far (Linux `/proc/<pid>/stat`, clock ticks of 1/100 s); with
 * `withExited`, plus those of its children that have exited and been waited for.
 */
export function cpuSeconds(pid: number | undefined, withExited = false): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const exited = withExited ? Number(fields[13]) + Number(fields[14]) : 0;
    return (Number(fields[11]) + Number(fields[12]) + exited) / 100;
  } catch {
    return undefined;
  }
}

/** The servers a benchmark runs against, by the command name their processes run under (`/proc/<pid>/comm`). */
const SERVER_COMMANDS: ReadonlyArray<readonly [string, RegExp]> = [
  ['FerretDB', /^ferretdb/],
  ['PostgreSQL', /^postgres/],
  ['S3 server', /^(python|moto)/],
  ['Kafka', /^java/],
];

/** CPU seconds so far of this process (all its threads) and of the servers' processes, summed per server. */
export interface CpuReading {
  readonly self: number;
  /** Of `self`, the time in the kernel. */
  readonly system: number;
  readonly servers: ReadonlyMap<string, number>;
}

/** Reads {@link CpuReading} (Linux; elsewhere the servers are left out). */
export function cpuReading(): CpuReading {
  const { user, system } = process.cpuUsage();
  const servers = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    // not Linux
  }
  for (const pid of pids) {
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // exited meanwhile
    }
    const server = SERVER_COMMANDS.find(([, re]) => re.test(comm))?.[0];
    const seconds = server === undefined ? undefined : cpuSeconds(Number(pid));
    if (server !== undefined && seconds !== undefined)
      servers.set(server, (servers.get(server) ?? 0) + seconds);
  }
  return { self: (user + system) / 1e6, system: system / 1e6, servers };
}

/** CPU seconds used since `before`, as a line: `CPU: this process 2.21 s, FerretDB 3.50 s, ...`. */
export function cpuSince(before: CpuReading): string {
  const now = cpuReading();
  const parts = [`this process ${f(now.self - before.self)} s (system ${f(now.system - before.system)} s)`];
  for (const [server, seconds] of now.servers) {
    const used = seconds - (before.servers.get(server) ?? 0);
    if (used > 0) parts.push(`${server} ${f(used)} s`);
  }
  return `CPU: ${parts.join(', ')}`;
}
