/** The answer to a JSON request, whatever its status: the status and the body as text. */
export interface JsonAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

/**
 * Sends a request to `url`, with `body` (when given) as JSON, and reads the answer's body as text. Resolves with
 * any answer, 4xx and 5xx included; rejects only when none came (the `fetch` failure: refused, reset, timed out,
 * aborted by `signal`).
 */
export async function requestJson(
  url: string,
  init: {
    readonly method: string;
    readonly body?: unknown;
    readonly signal?: AbortSignal;
    /** Sent as `Authorization: Bearer <bearer>` (an API key or the service token). */
    readonly bearer?: string;
  },
): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: init.method,
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  return { ok: res.ok, status: res.status, statusText: res.statusText, text: await res.text() };
}
