// The Backup page (docs/api.md, "The Backup page"). Plain JavaScript, no framework: the user's API key lives in
// sessionStorage and goes out only as `Authorization: Bearer` to job-state's own API; the project's jobs come from
// its live stream (server-sent events, read with fetch() so the header can be sent), and each job's part of the
// page is built once and updated in place, so focus and a half-filled restore form survive every update.
// Text goes in through textContent only, never as HTML.
import {
  ACTIONS,
  backoffMs,
  describeLag,
  describeWindow,
  formatBytes,
  parseEvents,
  phaseBar,
  restoreCommand,
  terminateSummary,
} from './page-logic.mjs';

const KEY_ITEM = 'tidemark.apiKey';
const PROJECT_ITEM = 'tidemark.project';
/** Nothing from the stream for this long (pings come every 15 s): the connection is taken for dead. */
const STREAM_SILENCE_MS = 40_000;

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** An element with attributes (`text` sets textContent) and children. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const session = {
  key: sessionStorage.getItem(KEY_ITEM),
  project: sessionStorage.getItem(PROJECT_ITEM),
  /** @type {AbortController | null} */
  stream: null,
  /** @type {Map<string, ReturnType<typeof jobCard>>} */
  cards: new Map(),
};

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${session.key}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  const message = payload && typeof payload.message === 'string' ? payload.message : `HTTP ${res.status}`;
  if (res.status === 401) {
    signOut(`Your key was refused: ${message}`);
    throw new ApiError(401, message);
  }
  if (!res.ok) throw new ApiError(res.status, message);
  return payload;
}

/** The connection's state, in an aria-live status: changed only when it changes, so it is not read out at each update. */
function setLive(state, text) {
  const live = byId('live');
  live.dataset.state = state;
  if (live.textContent !== text) live.textContent = text;
  if (state !== 'live') byId('updated').textContent = '';
}

function announce(text) {
  byId('announcer').textContent = text;
}

// ---- signing in and out -------------------------------------------------------------------------------------

async function signIn(key) {
  session.key = key;
  byId('sign-in-error').textContent = '';
  let projects;
  try {
    projects = (await api('GET', '/api/v1/projects')).projects;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401))
      byId('sign-in-error').textContent = String(err.message);
    return;
  }
  sessionStorage.setItem(KEY_ITEM, key);
  byId('sign-in').hidden = true;
  byId('workspace').hidden = false;
  const select = /** @type {HTMLSelectElement} */ (byId('project'));
  select.replaceChildren(...projects.map((p) => el('option', { value: p.name, text: p.name })));
  if (projects.length === 0) {
    setLive('error', 'This key holds no project');
    return;
  }
  const chosen = projects.some((p) => p.name === session.project) ? session.project : projects[0].name;
  select.value = chosen;
  showProject(chosen);
  byId('project').focus();
}

function signOut(reason) {
  stopStream();
  session.key = null;
  sessionStorage.removeItem(KEY_ITEM);
  clearJobs();
  byId('workspace').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = reason ?? '';
  setLive('signed-out', 'Not signed in');
  byId('api-key').focus();
}

function clearJobs() {
  for (const card of session.cards.values()) card.root.remove();
  session.cards.clear();
}

function showProject(project) {
  session.project = project;
  sessionStorage.setItem(PROJECT_ITEM, project);
  byId('page-error').textContent = '';
  clearJobs();
  void follow(project);
}

// ---- the live stream --------------------------------------------------------------------------------------

function stopStream() {
  session.stream?.abort();
  session.stream = null;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Follows the project's stream until another project is chosen or the user signs out; reconnects with back-off. */
async function follow(project) {
  stopStream();
  const stream = new AbortController();
  session.stream = stream;
  let attempt = 0;
  while (!stream.signal.aborted) {
    setLive('connecting', `Connecting to the live view of ${project}…`);
    const connection = new AbortController();
    const abortConnection = () => connection.abort();
    stream.signal.addEventListener('abort', abortConnection);
    let silence = setTimeout(abortConnection, STREAM_SILENCE_MS);
    const opened = Date.now();
    let endedByServer = false;
    try {
      const res = await fetch(`/api/v1/projects/${encodeURIComponent(project)}/stream`, {
        headers: { Authorization: `Bearer ${session.key}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal: connection.signal,
      });
      if (res.status === 401) {
        signOut('Your key was refused (it may have been revoked)');
        return;
      }
      if (res.status === 403 || res.status === 404) {
        const body = await res.json().catch(() => null);
        byId('page-error').textContent = body?.message ?? `HTTP ${res.status}`;
        setLive('error', `No live view of ${project}`);
        return;
      }
      if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          endedByServer = true;
          break;
        }
        clearTimeout(silence);
        silence = setTimeout(abortConnection, STREAM_SILENCE_MS);
        const parsed = parseEvents(buffer + value);
        buffer = parsed.rest;
        for (const event of parsed.events) {
          if (event.type === 'view') {
            render(JSON.parse(event.data));
            attempt = 0;
            setLive('live', `Live: ${project}`);
            byId('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
          } else if (event.type === 'error') {
            setLive('error', JSON.parse(event.data).message);
          }
        }
      }
    } catch {
      // A dropped connection, a silent one (aborted above) or a failed fetch: reconnect below.
    } finally {
      clearTimeout(silence);
      stream.signal.removeEventListener('abort', abortConnection);
    }
    if (stream.signal.aborted) return;
    // job-state ends each stream after a while (so a revoked key stops seeing the project): reconnect at once.
    if (endedByServer && Date.now() - opened > 10_000) continue;
    const wait = backoffMs(attempt++, Math.random());
    setLive('disconnected', `Disconnected from the live view; reconnecting in ${Math.ceil(wait / 1000)} s`);
    await sleep(wait, stream.signal);
  }
}

// ---- drawing the project ---------------------------------------------------------------------------------

function render(view) {
  byId('truncated').hidden = !view.truncated;
  byId('no-jobs').hidden = view.jobs.length > 0;
  const container = byId('jobs');
  const seen = new Set();
  let previous = null;
  for (const entry of view.jobs) {
    const id = entry.job.id;
    seen.add(id);
    let card = session.cards.get(id);
    if (card === undefined) {
      card = jobCard(id);
      session.cards.set(id, card);
    }
    // In the stream's order (by id), moving nothing that is already in place (focus stays).
    const wanted = previous === null ? container.firstElementChild : previous.nextElementSibling;
    if (wanted !== card.root) container.insertBefore(card.root, wanted);
    card.update(entry);
    previous = card.root;
  }
  for (const [id, card] of session.cards) {
    if (!seen.has(id)) {
      card.root.remove();
      session.cards.delete(id);
    }
  }
}

const ACTION_LABELS = {
  start: 'Start',
  stop: 'Stop',
  restart: 'Restart',
  resync: 'Resync',
  terminate: 'Terminate…',
};

/** One job's part of the page: built once, then `update(entry)` with each view of the stream. */
function jobCard(id) {
  const ref = (name) => `job-${id}-${name}`;
  const field = (name) => el('dd', { 'data-field': name });
  const fields = {
    state: field('state'),
    phaseText: el('span', { 'data-field': 'phase' }),
    lag: field('lag'),
    applied: field('applied'),
    lastSnapshot: field('last-snapshot'),
    window: field('restorable-window'),
  };
  const progress = el('progress', { max: '100', 'aria-label': `Phase progress of job ${id}` });
  const alerts = el('ul', { class: 'alerts', 'aria-label': `Open alerts of job ${id}` });
  const noAlerts = el('span', { text: 'none' });
  const source = el('code');
  const filters = el('span');
  const actionError = el('p', { class: 'error', role: 'alert' });
  const buttons = {};
  const actions = el('div', { class: 'actions', role: 'group', 'aria-label': `Actions on job ${id}` });
  for (const action of ACTIONS) {
    const button = el('button', { type: 'button', 'data-action': action, text: ACTION_LABELS[action] });
    if (action === 'terminate') button.classList.add('danger');
    button.addEventListener('click', () => void act(action, button));
    buttons[action] = button;
    actions.append(button);
  }

  const takeSnapshot = el('button', { type: 'button', text: 'Take snapshot' });
  const snapshotRows = el('tbody');
  const snapshotsTable = el(
    'table',
    {},
    el('caption', { text: `Snapshots of job ${id}, newest first` }),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Snapshot', 'State', 'Taken', 'Position', 'Stored', 'Logical'].map((h) =>
          el('th', { scope: 'col', text: h }),
        ),
      ),
    ),
    snapshotRows,
  );

  const snapshotSelect = el('select', { id: ref('restore-snapshot') });
  const target = el('input', {
    id: ref('restore-target'),
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'mongodb://target.example:27017/',
  });
  const include = el('textarea', { id: ref('restore-include'), rows: '2', spellcheck: 'false' });
  const drop = el('input', { id: ref('restore-drop'), type: 'checkbox' });
  const command = el('pre', { class: 'command', id: ref('restore-command'), 'aria-live': 'polite' });
  const commandNote = el('p', { id: ref('restore-note') });
  const copy = el('button', { type: 'button', text: 'Copy the command' });
  const restoreForm = el(
    'form',
    { novalidate: true, 'aria-labelledby': ref('restore-heading') },
    el(
      'fieldset',
      {},
      el('legend', { text: 'Restore a snapshot' }),
      el('label', { for: ref('restore-snapshot'), text: 'Snapshot (complete ones)' }),
      snapshotSelect,
      el('label', { for: ref('restore-target'), text: 'Target MongoDB URI' }),
      target,
      el('label', {
        for: ref('restore-include'),
        text: 'Only these namespaces (one db or db.collection per line; empty: all)',
      }),
      include,
      el(
        'label',
        { for: ref('restore-drop') },
        drop,
        document.createTextNode(' Drop target collections that already hold documents (--drop)'),
      ),
    ),
    el('p', { text: 'The command to run:' }),
    command,
    copy,
    commandNote,
  );
  const restoreRows = el('tbody');
  const restoresTable = el(
    'table',
    {},
    el('caption', { text: `Restores of job ${id}, newest first` }),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Restore', 'Kind', 'State', 'Progress', 'Target', 'Started', 'Result'].map((h) =>
          el('th', { scope: 'col', text: h }),
        ),
      ),
    ),
    restoreRows,
  );

  const root = el(
    'article',
    { class: 'job', 'data-job-id': id, 'aria-labelledby': ref('title') },
    el('h3', { id: ref('title'), text: `Job ${id}` }),
    el('p', {}, document.createTextNode('Source '), source, document.createTextNode(' '), filters),
    el(
      'dl',
      {},
      el('dt', { text: 'State' }),
      fields.state,
      el('dt', { text: 'Phase' }),
      el('dd', {}, progress, document.createTextNode(' '), fields.phaseText),
      el('dt', { text: 'Lag' }),
      fields.lag,
      el('dt', { text: 'Applied position' }),
      fields.applied,
      el('dt', { text: 'Last snapshot' }),
      fields.lastSnapshot,
      el('dt', { text: 'Restorable window' }),
      fields.window,
      el('dt', { text: 'Open alerts' }),
      el('dd', {}, noAlerts, alerts),
    ),
    actions,
    actionError,
    el(
      'section',
      { 'aria-labelledby': ref('snapshots-heading') },
      el('h4', { id: ref('snapshots-heading'), text: 'Snapshots' }),
      el('div', { class: 'snapshot-tools' }, takeSnapshot),
      snapshotsTable,
    ),
    el(
      'section',
      { 'aria-labelledby': ref('restore-heading') },
      el('h4', { id: ref('restore-heading'), text: 'Restore' }),
      el('p', {
        text:
          'Restores run in the tidemark CLI, on a machine that can reach the target: the CLI holds the ' +
          "target's credentials, so this page never sees them. job-state only records each restore and its " +
          'progress (below). Fill in the form and run the command it builds.',
      }),
      restoreForm,
      restoresTable,
    ),
  );

  /** @type {any} */
  let current = null;

  async function act(action, button) {
    actionError.textContent = '';
    if (action === 'terminate') return confirmTerminate();
    button.disabled = true;
    try {
      await api('POST', `/api/v1/jobs/${encodeURIComponent(id)}/${action}`);
      announce(`Job ${id}: ${action} accepted`);
    } catch (err) {
      actionError.textContent = `${ACTION_LABELS[action]} failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  }

  async function confirmTerminate() {
    let retained;
    try {
      retained = await api('GET', `/api/v1/jobs/${encodeURIComponent(id)}/retained`);
    } catch (err) {
      actionError.textContent = `Could not read what the job retains: ${err.message}`;
      return;
    }
    const dialog = /** @type {HTMLDialogElement} */ (byId('terminate-dialog'));
    byId('terminate-heading').textContent = `Terminate job ${id}?`;
    byId('terminate-what').replaceChildren(
      ...terminateSummary(current.job, current.status, retained).map((line) => el('p', { text: line })),
    );
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      async () => {
        buttons.terminate.focus();
        if (dialog.returnValue !== 'confirm') return;
        try {
          await api('POST', `/api/v1/jobs/${encodeURIComponent(id)}/terminate`);
          announce(`Job ${id} terminated`);
        } catch (err) {
          actionError.textContent = `Terminate failed: ${err.message}`;
        }
      },
      { once: true },
    );
    dialog.showModal();
  }

  takeSnapshot.addEventListener('click', async () => {
    actionError.textContent = '';
    takeSnapshot.disabled = true;
    try {
      const snapshot = await api('POST', `/api/v1/jobs/${encodeURIComponent(id)}/snapshots`);
      announce(`Snapshot ${snapshot.id} requested`);
    } catch (err) {
      actionError.textContent = `Take snapshot failed: ${err.message}`;
    } finally {
      takeSnapshot.disabled = false;
    }
  });

  function buildCommand() {
    const made = restoreCommand({
      snapshotId: snapshotSelect.value,
      target: target.value,
      include: include.value.split(/[\n,]/),
      drop: drop.checked,
    });
    command.textContent = made.ok ? made.command : `(${made.problems.join('; ')})`;
    copy.disabled = !made.ok;
    commandNote.textContent = made.passwordRemoved
      ? 'The password is left out: add it to the URI when you run the command (this page never keeps it).'
      : '';
    return made;
  }
  restoreForm.addEventListener('input', buildCommand);
  restoreForm.addEventListener('change', buildCommand);
  restoreForm.addEventListener('submit', (e) => e.preventDefault());
  copy.addEventListener('click', async () => {
    const made = buildCommand();
    if (!made.ok) return;
    try {
      await navigator.clipboard.writeText(made.command);
      announce('Command copied');
    } catch {
      getSelection()?.selectAllChildren(command);
      announce('Select and copy the command');
    }
  });

  function update(entry) {
    const before = current;
    current = entry;
    const { job, status } = entry;
    root.dataset.state = job.state;
    root.dataset.phase = job.phase ?? '';
    source.textContent = job.source.uri;
    const inc = job.filters.include.length > 0 ? job.filters.include.join(', ') : 'everything';
    const exc = job.filters.exclude.length > 0 ? `, except ${job.filters.exclude.join(', ')}` : '';
    filters.textContent = `(${inc}${exc}; sync ${job.syncNo})`;
    fields.state.textContent =
      job.state +
      (job.blocked ? ` (blocked: ${job.blocked.message})` : '') +
      (job.pendingEffects ? ' …' : '');
    const bar = phaseBar(status);
    if (bar.percent === null) progress.removeAttribute('value');
    else progress.value = bar.percent;
    progress.setAttribute('aria-valuetext', bar.label);
    fields.phaseText.textContent = bar.label;
    fields.lag.textContent = describeLag(status.lag);
    fields.applied.textContent = status.appliedOpTime ?? 'none yet';
    const last = status.lastSnapshot;
    fields.lastSnapshot.textContent =
      last === null
        ? 'none'
        : `${last.id}, ${last.completedAt ?? last.takenAt} (${formatBytes(last.storedBytes)} stored); ${status.snapshots} retained`;
    fields.window.textContent = describeWindow(status.restorableWindow);
    alerts.replaceChildren(
      ...job.alerts.map((a) =>
        el('li', {
          'data-severity': a.severity,
          'data-code': a.code,
          text: `${a.code} (${a.severity}): ${a.message}`,
        }),
      ),
    );
    noAlerts.hidden = job.alerts.length > 0;
    alerts.hidden = job.alerts.length === 0;
    for (const action of ACTIONS) buttons[action].hidden = !job.allowedActions.includes(action);
    takeSnapshot.hidden = job.state !== 'active';

    const noSnapshots = el('tr', {}, el('td', { colspan: '6', text: 'No snapshot yet' }));
    snapshotRows.replaceChildren(
      ...(entry.snapshots.length === 0 ? [noSnapshots] : []),
      ...entry.snapshots.map((s) =>
        el(
          'tr',
          { 'data-snapshot-id': s.id },
          el('td', { text: s.id }),
          el('td', { text: s.state + (s.reason ? `: ${s.reason}` : '') }),
          el('td', { text: s.takenAt ?? '' }),
          el('td', { text: s.opTime ?? '' }),
          el('td', { text: formatBytes(s.storedBytes) }),
          el('td', { text: formatBytes(s.logicalBytes) }),
        ),
      ),
    );
    const complete = entry.snapshots.filter((s) => s.state === 'complete');
    const chosen = snapshotSelect.value;
    snapshotSelect.replaceChildren(
      ...complete.map((s) => el('option', { value: s.id, text: `${s.id} (${s.opTime ?? ''})` })),
    );
    if (complete.some((s) => s.id === chosen)) snapshotSelect.value = chosen;
    const noRestores = el('tr', {}, el('td', { colspan: '7', text: 'No restore recorded yet' }));
    restoreRows.replaceChildren(
      ...(entry.restores.length === 0 ? [noRestores] : []),
      ...entry.restores.map((r) =>
        el(
          'tr',
          { 'data-restore-id': r.id },
          el('td', { text: r.id }),
          el('td', { text: r.kind }),
          el('td', { text: r.state + (r.cancelRequested && r.state === 'running' ? ' (cancel asked)' : '') }),
          el('td', { text: `${r.documents} documents, ${formatBytes(r.bytes)}` }),
          el('td', { text: r.target }),
          el('td', { text: r.startedAt }),
          el('td', { text: r.reason ?? (r.endedAt ? `ended ${r.endedAt}` : '') }),
        ),
      ),
    );
    buildCommand();

    if (before !== null) {
      if (before.job.state !== job.state) announce(`Job ${id} is now ${job.state}`);
      const known = new Set(before.job.alerts.map((a) => a.alertId));
      for (const a of job.alerts)
        if (!known.has(a.alertId)) announce(`Job ${id}: alert ${a.code}: ${a.message}`);
    }
  }

  return { root, update };
}

// ---- start ------------------------------------------------------------------------------------------------

byId('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('api-key'));
  const key = input.value.trim();
  input.value = '';
  if (key === '') {
    byId('sign-in-error').textContent = 'Paste an API key first';
    return;
  }
  void signIn(key);
});
byId('sign-out').addEventListener('click', () => signOut('Signed out'));
byId('project').addEventListener('change', (e) =>
  showProject(/** @type {HTMLSelectElement} */ (e.target).value),
);
if (session.key !== null) void signIn(session.key);
else byId('api-key').focus();
