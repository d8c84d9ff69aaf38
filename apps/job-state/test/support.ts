/** Helpers of job-state's integration specs: HTTP calls, polling, PhaseChanged records, clean-up. */
import { MongoClient } from 'mongodb';
import type { Kafka } from 'kafkajs';
import { deleteTopics, type PhaseChanged } from '@tidemark/bus';

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

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A PhaseChanged as a stage would publish it. */
export function phaseChanged(
  jobId: string,
  syncId: string,
  overrides: Partial<PhaseChanged> = {},
): PhaseChanged {
  return {
    jobId,
    syncId,
    phase: 'TRANSFERRING',
    stage: 'agent',
    progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
    appliedTs: null,
    sourceTs: null,
    details: {},
    at: new Date(),
    ...overrides,
  };
}

/** Drops the test's databases on the backup side, deletes its consumer groups and its topics. */
export async function cleanUp(options: {
  kafka: Kafka;
  backupUri: string;
  prefix: string;
  databases: readonly string[];
  databasePrefixes?: readonly string[];
  groups: readonly string[];
}): Promise<void> {
  const mongo = await MongoClient.connect(options.backupUri);
  try {
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      if (
        options.databases.includes(d.name) ||
        (options.databasePrefixes ?? []).some((p) => d.name.startsWith(p))
      ) {
        await mongo.db(d.name).dropDatabase();
      }
    }
  } finally {
    await mongo.close();
  }
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${options.prefix}.`));
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const groups = options.groups.filter((g) => existing.has(g));
    if (groups.length > 0) await admin.deleteGroups(groups);
    await deleteTopics(options.kafka, mine);
  } finally {
    await admin.disconnect();
  }
}
