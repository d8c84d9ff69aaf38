/**
 * JSON over HTTP against a service under test: the status and the parsed body, whatever the status. Requests carry
 * the run's API key (`authorization()` of `credentials.ts`: the admin key) unless `key` gives another, or `null`
 * for none; `apiRequest` is the one helper every spec and the benchmark call job-state's API with.
 */
import { authorization } from './credentials';

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiRequestOptions {
  /** The bearer key; default the run's API key; `null`: no Authorization header. */
  readonly key?: string | null;
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

export async function apiRequest<T = unknown>(
  method: string,
  url: string,
  options: ApiRequestOptions = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = {
    ...(options.key === null ? {} : authorization(options.key)),
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  const res = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/**
 * `apiRequest` for code that wants the body or an error: throws with the method, path, status and the answer's
 * text unless the status is 2xx.
 */
export async function apiCall<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  key?: string | null,
): Promise<T> {
  const res = await apiRequest<T>(method, url, { body, ...(key === undefined ? {} : { key }) });
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${method} ${new URL(url).pathname}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getJson<T = unknown>(url: string, key?: string | null): Promise<HttpAnswer<T>> {
  return apiRequest<T>('GET', url, key === undefined ? {} : { key });
}

export async function postJson<T = unknown>(
  url: string,
  body?: unknown,
  key?: string | null,
): Promise<HttpAnswer<T>> {
  return apiRequest<T>('POST', url, { body: body ?? {}, ...(key === undefined ? {} : { key }) });
}

/** Creates project `name` with the run's admin key unless it exists (409). */
export async function ensureProject(apiUrl: string, name: string): Promise<void> {
  const res = await apiRequest('POST', `${apiUrl}/api/v1/projects`, { body: { name } });
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`POST /api/v1/projects ${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}
