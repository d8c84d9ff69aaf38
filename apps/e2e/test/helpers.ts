import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { apiRequest, ensureProject } from '@tidemark/testing';

/** A small JSON client for job-state's REST API (docs/api.md), with the test run's admin key. */
export class JobApi {
  constructor(readonly baseUrl: string) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await apiRequest<T>(method, `${this.baseUrl}${path}`, { body, timeoutMs: 15_000 });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Creates the project a job is created in, unless it exists. */
  ensureProject(name: string): Promise<void> {
    return ensureProject(this.baseUrl, name);
  }
}

export interface JobStatus {
  id: string;
  state: string;
  phase: string | null;
  appliedOpTime: string | null;
  lag: { seconds: number | null; entries: number | null };
  head: { uri: string; namespaces: Record<string, string> };
  blocked?: unknown;
  alerts?: unknown[];
}

export function parseTs(text: string): { t: number; i: number } {
  const [t, i] = text.split(':').map(Number);
  return { t: t!, i: i! };
}

export function tsGte(a: { t: number; i: number }, b: { t: number; i: number }): boolean {
  return a.t > b.t || (a.t === b.t && a.i >= b.i);
}

export function suffix(): string {
  return `${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
}

/** The timestamp of the newest entry in the source's oplog (`0:0` when it is empty). */
export async function latestSourceTs(source: MongoClient): Promise<{ t: number; i: number }> {
  const e = await source
    .db('local')
    .collection('oplog.rs')
    .find({}, { sort: { $natural: -1 }, limit: 1 })
    .next();
  const ts = e?.['ts'] as { t: number; i: number } | undefined;
  return ts ? { t: ts.t, i: ts.i } : { t: 0, i: 0 };
}

/** Calls `check` every `intervalMs` until it returns true; a throw from `check` ends the wait with that error. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  intervalMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
