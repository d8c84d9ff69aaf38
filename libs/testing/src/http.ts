/** JSON over HTTP against a service under test: the status and the parsed body, whatever the status. */
export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

export async function getJson<T = unknown>(url: string): Promise<HttpAnswer<T>> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function postJson<T = unknown>(url: string, body?: unknown): Promise<HttpAnswer<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}
