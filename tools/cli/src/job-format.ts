/** Human output of the `tidemark job` commands: readable at a glance, no colours, stable column order. */
import { formatReadLimit } from '@tidemark/domain';
import type { AlertView, JobStatus, JobView, RetainedView } from '@tidemark/jobs';

const BAR_WIDTH = 24;

/** `[#########---------------]  37.5%`, or a note when the total is not known yet. */
export function progressBar(percent: number | null): string {
  if (percent === null) return '[' + '?'.repeat(BAR_WIDTH) + ']    ?  ';
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent.toFixed(1).padStart(5)}%`;
}

/** Bytes as B / KiB / MiB / GiB / TiB, from a decimal Int64 string (exact below 2^53, approximate above). */
export function bytes(decimal: string | null): string {
  if (decimal === null) return '?';
  let value = Number(decimal);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function count(decimal: string | null): string {
  return decimal === null ? '?' : BigInt(decimal).toLocaleString('en-US');
}

/** `1700000040:3 (2023-11-14 22:14:00 UTC)`. */
export function opTimeText(opTime: string | null): string {
  if (opTime === null) return '-';
  const seconds = Number(opTime.split(':')[0]);
  const when = new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
  return `${opTime} (${when})`;
}

function lagText(lag: JobStatus['lag']): string {
  if (lag.seconds === null && lag.entries === null) return '-';
  const parts = [
    lag.seconds === null ? undefined : `${lag.seconds} s behind the source`,
    lag.entries === null ? undefined : `${lag.entries} stored oplog entries to apply`,
  ];
  return parts.filter((p) => p !== undefined).join(', ');
}

function alertLine(a: AlertView): string {
  return `${a.code.padEnd(16)} ${a.at.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC')}  ${a.message}`;
}

/** The `job status` report. */
export function formatStatus(s: JobStatus): string {
  const p = s.progress;
  const lines = [
    `job ${s.id}  (project ${s.project})`,
    `  state     ${s.state}`,
    `  phase     ${(s.phase ?? '-').padEnd(27)} ${progressBar(p.percent)}  ` +
      `${count(p.docsCopied)} / ${count(p.docsTotal)} docs, ${bytes(p.bytesCopied)} / ${bytes(p.bytesTotal)}`,
  ];
  for (const n of p.namespaces) {
    lines.push(
      `              ${n.namespace.padEnd(26)} ${progressBar(n.percent)}  ${count(n.docsCopied)} / ${count(n.docsTotal)} docs`,
    );
  }
  lines.push(
    `  sync      ${s.syncId === null ? '-' : `${s.syncId} (#${s.syncNo})`}`,
    `  applied   ${opTimeText(s.appliedOpTime)}`,
    `  lag       ${lagText(s.lag)}`,
    `  head      ${s.head.uri}`,
  );
  const mapping = Object.entries(s.head.namespaces);
  if (mapping.length === 0) lines.push('            (no namespaces yet: the transfer has not finished)');
  const width = Math.max(0, ...mapping.map(([source]) => source.length));
  for (const [source, head] of mapping) lines.push(`            ${source.padEnd(width)} -> ${head}`);
  const version = s.source.serverVersion;
  const fcv = s.source.featureCompatibilityVersion;
  lines.push(
    `  source    ${version === null ? '-' : `MongoDB ${version}`}${fcv === null ? '' : ` (FCV ${fcv})`}`,
    `  reads     ${s.readLimit === null ? 'uncapped' : `at most ${formatReadLimit(s.readLimit)}`}`,
  );
  const w = s.restorableWindow;
  const at = (p: { opTime: string; wallTime: string | null }) =>
    `${p.opTime}${p.wallTime === null ? '' : ` (${p.wallTime})`}`;
  lines.push(
    `  snapshots ${s.snapshots}${s.lastSnapshot === null ? '' : `, newest ${s.lastSnapshot.id}`}`,
    `  restore   ${w === null ? 'nothing restorable yet' : `any point from ${at(w.from)} to ${at(w.to)}`}`,
  );
  lines.push(`  alerts    ${s.alerts.length === 0 ? 'none' : alertLine(s.alerts[0]!)}`);
  for (const a of s.alerts.slice(1)) lines.push(`            ${alertLine(a)}`);
  if (s.blocked !== null) lines.push(`  BLOCKED   ${s.blocked.code}: ${s.blocked.message}`);
  return `${lines.join('\n')}\n`;
}

/** The `job list` table. */
export function formatJobList(jobs: readonly JobView[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = jobs.map((j) => [
    j.id,
    j.project,
    j.state,
    j.phase ?? '-',
    j.syncId ?? '-',
    j.blocked === null ? '' : 'BLOCKED',
    j.source.uri,
  ]);
  const header = ['ID', 'PROJECT', 'STATE', 'PHASE', 'SYNC', '', 'SOURCE'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** One line after an action or a create. */
/** A decimal byte count (the API's int64 string) in decimal megabytes. */
const formatBytes = (bytes: string) => `${(Number(bytes) / 1e6).toFixed(1)} MB`;

/** What a job retains (`job retained`), or what `terminate` deletes. */
export function formatRetained(r: RetainedView, verb = 'retains'): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `job ${r.jobId} ${verb}: ${plural(r.snapshots.count, 'snapshot')} (${formatBytes(r.snapshots.storedBytes)} ` +
    `stored), ${plural(r.oplogSlices.count, 'stored slice')} (${formatBytes(r.oplogSlices.bytes)}), ` +
    `${plural(r.headDatabases.length, 'head database')}` +
    `${r.headDatabases.length === 0 ? '' : ` (${r.headDatabases.join(', ')})`}\n`
  );
}

export function formatJobLine(j: JobView): string {
  const sync = j.syncId === null ? '' : `, sync ${j.syncId}`;
  const phase = j.phase === null ? '' : `, phase ${j.phase}`;
  const pending = j.pendingEffects ? ' (commands pending; retried automatically)' : '';
  const limit = j.readLimit === null ? '' : `, reads at most ${formatReadLimit(j.readLimit)}`;
  return `job ${j.id}: ${j.state}${phase}${sync}${limit}${pending}\n`;
}
