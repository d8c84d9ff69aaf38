// The Backup page's logic without the DOM: the restore command line, what a terminate deletes, how figures are
// shown, the server-sent-events parser and the reconnect back-off. `app.mjs` draws the page with these;
// `apps/job-state/src/page/page-logic.spec.ts` tests them in Node. Types: `page-logic.d.mts`.

/** The user actions of the API (`POST /api/v1/jobs/:id/:action`), in the order the page shows their buttons. */
export const ACTIONS = ['start', 'stop', 'restart', 'resync', 'terminate'];

/** Query options of a MongoDB URI that carry a secret; the page never shows them. */
const SECRET_OPTIONS = ['password', 'tlscertificatekeyfilepassword', 'sslpemkeypassword'];

/**
 * A MongoDB URI without its password (the user name stays) and without options that carry a secret. `removed`
 * says whether anything was taken out. `ok` is false for anything that is not a `mongodb://` or `mongodb+srv://`
 * URI.
 * @param {string} input
 */
export function withoutSecrets(input) {
  const uri = String(input).trim();
  const m = /^(mongodb(?:\+srv)?:\/\/)(?:([^@/?#]*)@)?([^?#]*)(?:\?([^#]*))?$/.exec(uri);
  if (m === null) return { ok: false, uri: '', removed: false };
  const [, scheme, userinfo, rest, query] = m;
  let removed = false;
  let user = '';
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (colon >= 0) removed = true;
  }
  const kept = [];
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const name = pair.split('=')[0].toLowerCase();
    const value = pair.slice(pair.indexOf('=') + 1);
    if (
      SECRET_OPTIONS.includes(name) ||
      (name === 'authmechanismproperties' && /AWS_SESSION_TOKEN/i.test(value))
    ) {
      removed = true;
      continue;
    }
    kept.push(pair);
  }
  const host = rest ?? '';
  return {
    ok: host.replace(/\/.*$/, '') !== '',
    uri: `${scheme}${user === '' ? '' : `${user}@`}${host}${kept.length > 0 ? `?${kept.join('&')}` : ''}`,
    removed,
  };
}

/**
 * One shell word: as it is when it holds only safe characters, else in single quotes.
 * @param {string} word
 */
export function shellQuote(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const NAMESPACE = /^[^\s$/\\."*<>:|?]+(\.[^\s$]+)?$/;

/**
 * The exact `tidemark restore` command line for a snapshot and a target, or the problems that keep it from being
 * made. The target's password (and secret options) is never part of it: `passwordRemoved` tells the page to say
 * so. `include`: one `db` or `db.collection` per entry (blank entries are ignored).
 * @param {{ snapshotId: string, target: string, include: string[], drop: boolean }} form
 */
export function restoreCommand(form) {
  const problems = [];
  const snapshotId = String(form.snapshotId ?? '').trim();
  if (snapshotId === '') problems.push('choose a complete snapshot');
  const target = withoutSecrets(form.target ?? '');
  if (!target.ok) problems.push('the target must be a mongodb:// or mongodb+srv:// URI with a host');
  const include = (form.include ?? []).map((s) => String(s).trim()).filter((s) => s !== '');
  for (const ns of include)
    if (!NAMESPACE.test(ns)) problems.push(`not a namespace (db or db.collection): ${ns}`);
  if (problems.length > 0) return { ok: false, problems, command: '', passwordRemoved: target.removed };
  const words = ['npx', 'tidemark', 'restore', '--snapshot', snapshotId, '--to', target.uri];
  for (const ns of include) words.push('--include', ns);
  if (form.drop === true) words.push('--drop');
  return { ok: true, problems, command: words.map(shellQuote).join(' '), passwordRemoved: target.removed };
}

/**
 * Bytes as people read them (decimal units, as the rest of Tidemark: 1 MB = 1,000,000 bytes). Accepts the API's
 * decimal strings and numbers; `null` is "unknown".
 * @param {string | number | null | undefined} value
 */
export function formatBytes(value) {
  if (value === null || value === undefined || value === '') return 'unknown';
  const n = Number(value);
  if (!Number.isFinite(n)) return 'unknown';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** @param {number} n @param {string} one @param {string} many */
function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The phase bar: its label and value. `percent` is `null` while the phase knows no total (an indeterminate bar).
 * @param {{ state: string, phase: string | null, progress: { percent: number | null } }} status
 */
export function phaseBar(status) {
  if (status.phase === null) return { label: `${status.state}, not started`, percent: null };
  const percent =
    status.state === 'active' || status.phase === 'complete' ? 100 : (status.progress?.percent ?? null);
  const shown = percent === null ? 'size not known yet' : `${percent}%`;
  return { label: `${status.phase}, ${shown}`, percent };
}

/** @param {{ seconds: number | null, entries: number | null }} lag */
export function describeLag(lag) {
  if (lag.seconds === null && lag.entries === null) return 'unknown';
  const parts = [];
  if (lag.seconds !== null) parts.push(plural(lag.seconds, 'second', 'seconds'));
  if (lag.entries !== null) parts.push(plural(lag.entries, 'oplog entry', 'oplog entries') + ' to apply');
  return parts.join(', ');
}

/** @param {{ from: { opTime: string, wallTime: string | null }, to: { opTime: string, wallTime: string | null } } | null} w */
export function describeWindow(w) {
  if (w === null) return 'none yet (no complete snapshot)';
  const at = (p) => (p.wallTime === null ? p.opTime : `${p.wallTime} (${p.opTime})`);
  return `from ${at(w.from)} to ${at(w.to)}`;
}

/**
 * What terminating the job deletes, as sentences for the confirmation dialog, from `GET /jobs/:id/retained` (what
 * terminate deletes, counted by job-state) and the status (the restorable window lost).
 * @param {{ id: string }} job
 * @param {{ restorableWindow: unknown }} status
 * @param {{ snapshots: { count: number, storedBytes: string }, oplogSlices: { count: number, bytes: string }, headDatabases: string[] }} retained
 */
export function terminateSummary(job, status, retained) {
  const heads = retained.headDatabases;
  const lines = [
    `${plural(retained.snapshots.count, 'snapshot', 'snapshots')} (${formatBytes(Number(retained.snapshots.storedBytes))} stored) will be deleted from the snapshot store.`,
    `${plural(retained.oplogSlices.count, 'stored oplog slice', 'stored oplog slices')} (${formatBytes(
      Number(retained.oplogSlices.bytes),
    )}) will be deleted: the restorable window ${describeWindow(
      /** @type {any} */ (status.restorableWindow),
    )} is lost.`,
    `${plural(heads.length, 'head database', 'head databases')}${
      heads.length > 0 ? ` (${heads.slice(0, 5).join(', ')}${heads.length > 5 ? ', …' : ''})` : ''
    } will be dropped.`,
    `Job ${job.id} becomes inactive; this cannot be undone.`,
  ];
  return lines;
}

/**
 * Reads server-sent events from text as it arrives: resolves the complete events in `buffer` and the rest, which
 * waits for more text. Comment lines (`:`) are skipped; `data` lines are joined with newlines.
 * @param {string} buffer
 */
export function parseEvents(buffer) {
  const events = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end < 0) break;
    const block = text.slice(start, end);
    start = end + 2;
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ type, data: data.join('\n') });
  }
  return { events, rest: text.slice(start) };
}

/**
 * Wait before reconnecting attempt `attempt` (0, 1, ...): doubling from 1 s up to 30 s, with jitter (half to all
 * of it) so that many pages do not come back at once.
 * @param {number} attempt
 * @param {number} random a number in [0, 1)
 */
export function backoffMs(attempt, random) {
  const cap = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 10));
  return Math.round(cap / 2 + (cap / 2) * random);
}
