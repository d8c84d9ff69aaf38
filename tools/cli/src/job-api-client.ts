/**
 * The CLI's client of job-state's REST API (docs/api.md), at `TIDEMARK_API_URL` (default http://127.0.0.1:7100),
 * with the API key of `TIDEMARK_API_KEY` or the file `TIDEMARK_API_KEY_FILE` as the bearer token on every call
 * (without one, every call fails before any request is sent). Every failure is a {@link JobApiError} whose message
 * can be shown as is: the API's own reason for 4xx/5xx answers, or what to check when job-state cannot be reached.
 */
import {
  AccessConfigError,
  CREDENTIAL_ENV,
  secretFromEnv,
  type ApiKeyView,
  type AuditEventView,
  type ProjectView,
  type Role,
} from '@tidemark/access';
import { API_URL_ENV, DEFAULT_API_URL, jobStateApiUrl } from '@tidemark/config';
import type { SnapshotRetention } from '@tidemark/domain';
import type {
  AlertEntryView,
  JobStatus,
  JobView,
  RestoreView,
  RetainedView,
  SnapshotView,
} from '@tidemark/jobs';
import { requestJson, type JsonAnswer } from '@tidemark/util';

export class JobApiError extends Error {
  override readonly name = 'JobApiError';
  constructor(
    message: string,
    /** HTTP status, or undefined when no answer came. */
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export interface CreateJobRequest {
  project: string;
  source: { uri: string };
  include: string[];
  exclude: string[];
  /** Only the fields given; job-state fills in the rest from its defaults. */
  schedule?: { intervalMinutes?: number; retention?: SnapshotRetention };
  snapshotStore?: { kind: string; path?: string; encryptionKeyFile?: string };
  /** MB/s; absent: uncapped. */
  readLimit?: number;
}

/** `PATCH /api/v1/jobs/:id/settings`: only the settings given change. */
export interface JobSettingsRequest {
  /** MB/s, or null to remove the limit. */
  readLimit?: number | null;
}

/** `POST /api/v1/restores`: `snapshotId`, or `jobId` and `point`; the target without credentials. */
export interface BeginRestoreRequest {
  snapshotId?: string;
  jobId?: string;
  point?: string;
  target: string;
  include: string[];
  exclude: string[];
  renames: string[];
  drop: boolean;
}

export interface RestoreProgressReport {
  documents: number;
  bytes: number;
  entries: number;
  namespaces: Record<string, { documents: number; done: boolean }>;
}

export interface FinishRestoreRequest {
  state: 'complete' | 'failed' | 'cancelled';
  reason?: string;
  progress?: RestoreProgressReport;
  snapshotId?: string;
  at?: { opTime: string; wallTime: string | null };
}

/** The API key the CLI sends: `TIDEMARK_API_KEY` or `TIDEMARK_API_KEY_FILE`; a clear error when neither is set. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const vars = CREDENTIAL_ENV.apiKey;
  let key: string | undefined;
  try {
    key = secretFromEnv(env, vars);
  } catch (err) {
    throw new JobApiError((err as AccessConfigError).message, undefined);
  }
  if (key === undefined)
    throw new JobApiError(
      `no API key: set ${vars.value} or ${vars.file} (a key from \`tidemark key create\`, or the admin key)`,
      undefined,
    );
  return key;
}

export class JobApiClient {
  readonly baseUrl: string;
  private apiKey: string | undefined;

  constructor(baseUrl?: string) {
    const url =
      baseUrl === undefined ? jobStateApiUrl(process.env) : jobStateApiUrl({ [API_URL_ENV]: baseUrl });
    if (url === undefined) {
      throw new JobApiError(
        `${API_URL_ENV} must be an http(s) URL such as ${DEFAULT_API_URL}, got ${JSON.stringify(baseUrl ?? process.env[API_URL_ENV])}`,
        undefined,
      );
    }
    this.baseUrl = url;
  }

  create(request: CreateJobRequest): Promise<JobView> {
    return this.call('POST', '/api/v1/jobs', request);
  }

  async list(): Promise<JobView[]> {
    const jobs: JobView[] = [];
    for (let after: string | undefined; ;) {
      const query = `?limit=1000${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
      const page = await this.call<{ jobs: JobView[] }>('GET', `/api/v1/jobs${query}`);
      jobs.push(...page.jobs);
      if (page.jobs.length < 1000) return jobs;
      after = page.jobs[page.jobs.length - 1]?.id;
    }
  }

  get(id: string): Promise<JobView> {
    return this.call('GET', `/api/v1/jobs/${encodeURIComponent(id)}`);
  }

  status(id: string): Promise<JobStatus> {
    return this.call('GET', `/api/v1/jobs/${encodeURIComponent(id)}/status`);
  }

  takeSnapshot(jobId: string): Promise<SnapshotView> {
    return this.call('POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/snapshots`, {});
  }

  listSnapshots(jobId: string): Promise<SnapshotView[]> {
    return this.call('GET', `/api/v1/jobs/${encodeURIComponent(jobId)}/snapshots`);
  }

  getSnapshot(snapshotId: string): Promise<SnapshotView> {
    return this.call('GET', `/api/v1/snapshots/${encodeURIComponent(snapshotId)}`);
  }

  verifySnapshot(snapshotId: string): Promise<{ snapshotId: string; requestId: string }> {
    return this.call('POST', `/api/v1/snapshots/${encodeURIComponent(snapshotId)}/verify`, {});
  }

  deleteSnapshot(snapshotId: string): Promise<{ snapshotId: string; requestId: string }> {
    return this.call('DELETE', `/api/v1/snapshots/${encodeURIComponent(snapshotId)}`);
  }

  /** Registers a restore before it writes anything (docs/api.md, "Restores"). */
  beginRestore(request: BeginRestoreRequest): Promise<RestoreView> {
    return this.call('POST', '/api/v1/restores', request);
  }

  reportRestoreProgress(id: string, progress: RestoreProgressReport): Promise<RestoreView> {
    return this.call('POST', `/api/v1/restores/${encodeURIComponent(id)}/progress`, progress);
  }

  finishRestore(id: string, request: FinishRestoreRequest): Promise<RestoreView> {
    return this.call('POST', `/api/v1/restores/${encodeURIComponent(id)}/finish`, request);
  }

  cancelRestore(id: string): Promise<RestoreView> {
    return this.call('POST', `/api/v1/restores/${encodeURIComponent(id)}/cancel`, {});
  }

  getRestore(id: string): Promise<RestoreView> {
    return this.call('GET', `/api/v1/restores/${encodeURIComponent(id)}`);
  }

  /** Restores newest first, of one job or of all. */
  async listRestores(jobId?: string): Promise<RestoreView[]> {
    const query = jobId === undefined ? '' : `?job=${encodeURIComponent(jobId)}`;
    return (await this.call<{ restores: RestoreView[] }>('GET', `/api/v1/restores${query}`)).restores;
  }

  changeSettings(id: string, settings: JobSettingsRequest): Promise<JobView> {
    return this.call('PATCH', `/api/v1/jobs/${encodeURIComponent(id)}/settings`, settings);
  }

  retained(id: string): Promise<RetainedView> {
    return this.call('GET', `/api/v1/jobs/${encodeURIComponent(id)}/retained`);
  }

  act(id: string, action: string, body?: unknown): Promise<JobView & { deleting?: RetainedView }> {
    return this.call('POST', `/api/v1/jobs/${encodeURIComponent(id)}/${action}`, body ?? {});
  }

  createProject(name: string): Promise<ProjectView> {
    return this.call('POST', '/api/v1/projects', { name });
  }

  /** Alerts newest opened first: of a project (with those about no job), or of one job. */
  async listAlerts(
    of: { readonly project: string } | { readonly jobId: string },
    state: 'open' | 'all',
  ): Promise<AlertEntryView[]> {
    const path =
      'project' in of
        ? `/api/v1/projects/${encodeURIComponent(of.project)}/alerts`
        : `/api/v1/jobs/${encodeURIComponent(of.jobId)}/alerts`;
    return (await this.call<{ alerts: AlertEntryView[] }>('GET', `${path}?state=${state}&limit=1000`)).alerts;
  }

  async listProjects(): Promise<ProjectView[]> {
    return (await this.call<{ projects: ProjectView[] }>('GET', '/api/v1/projects')).projects;
  }

  getProject(name: string): Promise<ProjectView> {
    return this.call('GET', `/api/v1/projects/${encodeURIComponent(name)}`);
  }

  deleteProject(name: string): Promise<ProjectView> {
    return this.call('DELETE', `/api/v1/projects/${encodeURIComponent(name)}`);
  }

  /** A new key; `key` is the whole key, shown this once. */
  createKey(grants: Record<string, Role>): Promise<ApiKeyView & { key: string }> {
    return this.call('POST', '/api/v1/keys', { grants });
  }

  async listKeys(): Promise<ApiKeyView[]> {
    return (await this.call<{ keys: ApiKeyView[] }>('GET', '/api/v1/keys')).keys;
  }

  revokeKey(id: string): Promise<ApiKeyView> {
    return this.call('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
  }

  /** A project's audit events, newest first (its owner or the admin key); `before` an ISO time, exclusive. */
  async listAudit(
    project: string,
    options: { limit?: number; before?: string } = {},
  ): Promise<AuditEventView[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.before !== undefined) query.set('before', options.before);
    const q = query.size === 0 ? '' : `?${query.toString()}`;
    return (
      await this.call<{ events: AuditEventView[] }>(
        'GET',
        `/api/v1/projects/${encodeURIComponent(project)}/audit${q}`,
      )
    ).events;
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> {
    this.apiKey ??= apiKeyFromEnv();
    let res: JsonAnswer;
    try {
      res = await requestJson(`${this.baseUrl}${path}`, {
        method,
        body,
        bearer: this.apiKey,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new JobApiError(
        `cannot reach job-state at ${this.baseUrl} (${cause}); is it running? (set TIDEMARK_API_URL)`,
        undefined,
      );
    }
    const text = res.text;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const message = (parsed as { message?: unknown } | undefined)?.message;
      const reason = Array.isArray(message)
        ? message.join('; ')
        : typeof message === 'string'
          ? message
          : text;
      throw new JobApiError(`${method} ${path}: ${res.status} ${res.statusText}: ${reason}`, res.status);
    }
    return parsed as T;
  }
}
