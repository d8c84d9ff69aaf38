/**
 * Horizontal scaling under kills: two replicas (processes) of each consuming stage of the data path (slice-ingest,
 * head-builder, oplog-applier) share the work of eight jobs through their consumer groups; once every group has
 * spread its partitions over both replicas, one replica of each stage is SIGKILLed in turn while the jobs are
 * syncing and a writer runs, and not restarted. The survivors take the partitions over (after the consumer session
 * times out) and every head database ends equal to its source, document for document, with nothing lost or doubled.
 *
 * Runs alone (`*.solo.int-spec.ts`): eight jobs and nine services on two cores.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createKafka } from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import {
  compareHeads,
  loadedTestSource,
  runWriter,
  seedSource,
  ServiceStack,
  type StackService,
  type TestSource,
} from '@tidemark/testing';
import { JobApi, latestSourceTs, parseTs, suffix, tsGte, waitUntil, type JobStatus } from './helpers';

const JOBS = 8;
const DOCS_PER_JOB = Number(process.env['TIDEMARK_E2E_SCALING_DOCS'] ?? 3_000);
/** The stages run twice; the first stack runs every service, the second one more replica of these. */
const SCALED: readonly StackService[] = ['slice-ingest', 'head-builder', 'oplog-applier'];

/** Each member of a consumer group and the partitions it holds, by topic. */
async function groupMembers(admin: Admin, groupId: string): Promise<Record<string, number[]>[]> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  if (!group || group.state !== 'Stable') return [];
  return group.members.map((m) => {
    const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    return (decoded?.assignment ?? {}) as Record<string, number[]>;
  });
}

/** Polls every 500 ms: the group and status checks here are cheap. */
const waitFor = (what: string, timeoutMs: number, check: () => Promise<boolean>) =>
  waitUntil(what, timeoutMs, check, 500);

describe('horizontal scaling: two replicas per consuming stage, one of each killed mid-sync', () => {
  const s = suffix();
  const prefix = `e2e-scale-${s}`;
  const dbs = Array.from({ length: JOBS }, (_, k) => `scale${s}_${k}`);
  const namespaces = dbs.map((db) => `${db}.items`);
  let source: TestSource;
  let backup: MongoClient;
  let admin: Admin;
  const env = {
    TIDEMARK_TOPIC_PREFIX: prefix,
    TIDEMARK_META_DB: `e2e_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
    TIDEMARK_SLICE_TARGET_BYTES: String(128 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_APPLY_LEASE_MS: '4000',
  };
  const first = new ServiceStack(env, `scale-a-${s}`);
  let second: ServiceStack | undefined;

  before(async () => {
    source = await loadedTestSource({
      name: 'e2e-scale',
      oplogBytes: 16 * 1024 * 1024,
      load: (client) =>
        seedSource(client, { collections: Object.fromEntries(namespaces.map((ns) => [ns, DOCS_PER_JOB])) }),
    });
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    admin = createKafka({ brokers: resolveEndpoints().kafka.brokers, clientId: `scale-spec-${s}` }).admin();
    await admin.connect();
    await first.startAll();
    second = new ServiceStack({ ...env, TIDEMARK_API_URL: first.apiUrl }, `scale-b-${s}`);
    await second.startAll(SCALED);
  });

  after(async () => {
    await second?.stopAll();
    await first.stopAll();
    await admin?.disconnect();
    for (const db of dbs) await source?.client.db(db).dropDatabase();
    await source?.stop();
    await backup?.close();
  });

  it(`${JOBS} jobs: partitions spread over both replicas, survivors take over, every head equals its source`, async () => {
    const api = new JobApi(first.apiUrl);
    await api.ensureProject('scale');
    const jobs: string[] = [];
    for (const db of dbs) {
      const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
        project: 'scale',
        source: { uri: source.uri },
        include: [db],
      });
      jobs.push(job.id);
    }
    const groups = SCALED.map((n) => `${prefix}.tidemark-${n}`);
    await waitFor('every scaled stage to spread its partitions over two replicas', 120_000, async () => {
      for (const g of groups) {
        const members = await groupMembers(admin, g);
        if (members.length !== 2 || members.some((m) => Object.values(m).flat().length === 0)) return false;
      }
      return true;
    });
    for (const g of groups) {
      const held = (await groupMembers(admin, g)).map((m) => Object.values(m).flat().length);
      console.log(`${g}: partitions per replica ${held.join(' + ')}`);
    }

    const writer = new AbortController();
    const writing = runWriter(source.client, namespaces, writer.signal, 40);
    for (const id of jobs) await api.call('POST', `/api/v1/jobs/${id}/start`);
    const statuses = async () =>
      Promise.all(jobs.map((id) => api.call<JobStatus>('GET', `/api/v1/jobs/${id}/status`)));
    try {
      // One replica of each stage, mid-sync: the second stack's slice-ingest, the first's head-builder, the
      // second's oplog-applier, a few seconds apart, while the jobs transfer and the writer writes.
      const victims: [ServiceStack, StackService][] = [
        [second!, 'slice-ingest'],
        [first, 'head-builder'],
        [second!, 'oplog-applier'],
      ];
      for (const [stack, name] of victims) {
        await new Promise((r) => setTimeout(r, 2000 + Math.floor(Math.random() * 2000)));
        const phases = (await statuses()).map((st) => (st.state === 'active' ? 'active' : st.phase));
        console.log(
          `killing ${name} of ${stack === first ? 'the first' : 'the second'} stack; jobs: ${phases}`,
        );
        await stack.kill(name);
      }
      await waitFor('every job to become active', 15 * 60_000, async () => {
        const all = await statuses();
        for (const st of all)
          if (st.blocked) throw new Error(`job ${st.id} blocked: ${JSON.stringify(st.blocked)}`);
        return all.every((st) => st.state === 'active');
      });
    } finally {
      writer.abort();
    }
    console.log(`writer did ${JSON.stringify(await writing)}`);

    // Each group is down to one member, which now holds every partition of the topics it reads.
    for (const g of groups) {
      await waitFor(`${g} to settle on its survivor`, 120_000, async () => {
        const members = await groupMembers(admin, g);
        return members.length === 1;
      });
      const [survivor] = await groupMembers(admin, g);
      for (const [topic, partitions] of Object.entries(survivor!)) {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        assert.equal(partitions.length, meta.topics[0]!.partitions.length, `${g} holds all of ${topic}`);
      }
    }

    const target = await latestSourceTs(source.client);
    let last: JobStatus[] = [];
    await waitFor('lag zero on every job', 10 * 60_000, async () => {
      last = await statuses();
      return last.every((st) => st.appliedOpTime !== null && tsGte(parseTs(st.appliedOpTime), target));
    });
    const problems: string[] = [];
    for (const st of last) problems.push(...(await compareHeads(source.client, backup, st.head.namespaces)));
    assert.deepEqual(problems, [], problems.join('\n'));
    assert.deepEqual(last.flatMap((st) => Object.keys(st.head.namespaces)).sort(), [...namespaces].sort());
  });
});
