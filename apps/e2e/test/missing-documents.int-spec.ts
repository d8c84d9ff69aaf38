/**
 * The *fetching missing documents* phase end to end over the real servers and services (design.md, "Oplog
 * application"): an update whose document the head does not hold is recorded as missing by the oplog-applier, which
 * asks the agent for it (`FETCH_MISSING_DOCUMENTS`) once the applied position reaches the transfer's `endTs`; the
 * agent reads it from the source into an initial-sync slice of origin `missing`, slice-ingest stores it and the
 * head-builder upserts it, then builds the indexes and the job becomes `active`.
 *
 * FerretDB never produces such an update: its `u` entries carry the whole document, which the applier upserts. So
 * the test makes one, in MongoDB's documented format:
 * 1. the stack runs without the oplog-applier while the job's transfer runs with a writer on the source (the job's
 *    `orders` and a database the job leaves out, so the transfer's `(startTs, endTs]` window holds entries, with
 *    gaps in the job's timestamps);
 * 2. once the head is built and the agent has stored the whole window, document X (in `customers`, which nothing
 *    writes) is taken out of the head: it stands for a document the scan did not deliver. The job's stored oplog
 *    slices from `startTs` on are shipped again as one longer slice, on the slices topic as the agent ships them
 *    (through slice-ingest's checks), holding every stored entry plus a `$v:2` diff update of X at a free
 *    timestamp inside the window. The apply loop prefers the longest slice covering its position, so it applies
 *    this one; its range is the agent's own (nothing is claimed that the agent did not store);
 * 3. the oplog-applier starts. The proof: the missing-documents store holds X, the oplog store holds the agent's
 *    `missing` slice with X's source bytes and the `missing` catalog, the head registry counts one fetched
 *    document, the job is `active`, X in the head is byte for byte the source's, and the head equals the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BSON, EJSON, type Document } from 'bson';
import type { Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createKafka, deleteTopics, KafkaSlicePublisher, producerFor, resolveTopics } from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import {
  DEFAULT_SLICE_LIMITS,
  compareOpTime,
  formatOpTime,
  splitNamespace,
  type InitialSliceMeta,
  type OpTime,
} from '@tidemark/domain';
import { MongoHeadRegistry, MongoHeadWriter, MongoMissingDocumentStore } from '@tidemark/head-database-mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import { catalogSliceId, decodeSlicePayload, oplogSliceId } from '@tidemark/slices';
import {
  compareHeads,
  diffUpdate,
  entryTs,
  loadedTestSource,
  mixedDocument,
  oplogSlice,
  runWriter,
  seedSource,
  ServiceStack,
  until,
  type TestSource,
} from '@tidemark/testing';
import { JobApi, latestSourceTs, parseTs, suffix, tsGte, type JobStatus } from './helpers';

/**
 * How long each step may take. About 10 s each on an idle machine (the whole file runs in about a minute); a
 * machine shared with other suites has made them several times slower.
 */
const STEP_TIMEOUT_MS = 180_000;

/** The document the head loses and the agent must fetch. */
const MISSING_ID = 'fetched-from-the-source';

/** The job's stored oplog entries after `from` up to the stored position, and the slices that hold them. */
async function storedEntries(
  store: MongoOplogStore,
  jobId: string,
  syncId: string,
  from: OpTime,
): Promise<{ entries: Buffer[]; slices: number; lastTs: OpTime }> {
  const latest = await store.latestOplogTs(jobId, syncId);
  assert.ok(latest, 'the agent stored oplog slices');
  const entries: Buffer[] = [];
  let slices = 0;
  let p = from;
  while (compareOpTime(p, latest) < 0) {
    const meta = await store.findCovering(jobId, syncId, p);
    assert.ok(meta, `no stored oplog slice continues the chain at ${formatOpTime(p)}`);
    const stored = await store.get(meta.sliceId);
    assert.ok(stored, `${meta.sliceId} is stored`);
    for (const raw of decodeSlicePayload(stored.payload, stored.meta, DEFAULT_SLICE_LIMITS)) {
      if (compareOpTime(entryTs(raw), p) > 0) entries.push(raw);
    }
    p = meta.lastTs;
    slices += 1;
  }
  return { entries, slices, lastTs: p };
}

/** A timestamp in `(after, until]` that no entry of `taken` has: right after one of them, else after `after`. */
function freeTs(after: OpTime, until: OpTime, taken: readonly OpTime[]): OpTime {
  const used = new Set(taken.map(formatOpTime));
  for (const base of [...taken, after]) {
    const next = { t: base.t, i: base.i + 1 };
    if (compareOpTime(next, after) > 0 && compareOpTime(next, until) <= 0 && !used.has(formatOpTime(next)))
      return next;
  }
  throw new Error(`no free timestamp in (${formatOpTime(after)}, ${formatOpTime(until)}]`);
}

/** The agent's structured log events named `event`. */
function agentEvents(stack: ServiceStack, event: string): Document[] {
  const file = path.join(stack.logDir, 'agent.log');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(`"${event}"`))
    .map((line) => JSON.parse(line) as Document);
}

describe('missing documents fetched end to end (real Kafka, FerretDB, every pipeline service)', () => {
  const s = suffix();
  const env = {
    TIDEMARK_TOPIC_PREFIX: `e2e-missing-${s}`,
    TIDEMARK_META_DB: `e2e_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
    TIDEMARK_SLICE_TARGET_BYTES: String(128 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '300',
    TIDEMARK_APPLY_LEASE_MS: '4000',
  };
  const db = `e2e${s}_shop`;
  const orders = `${db}.orders`;
  const customers = `${db}.customers`;
  /** Written during the transfer, outside the job: source entries the job's slices leave out. */
  const noise = `e2e${s}_noise.events`;
  const endpoints = resolveEndpoints();
  const kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `e2e-missing-${s}` });
  let source: TestSource | undefined;
  let backup: MongoClient;
  let stack: ServiceStack | undefined;
  let producer: Producer | undefined;
  let jobId: string | undefined;

  before(async () => {
    backup = await new MongoClient(endpoints.backup.uri).connect();
    source = await loadedTestSource({
      name: `e2e-missing-${s}`,
      oplogBytes: 16 * 1024 * 1024,
      load: async (client) => {
        await seedSource(client, { collections: { [orders]: 4000, [customers]: 200, [noise]: 20 } });
        const { db: d, coll } = splitNamespace(customers);
        await client
          .db(d)
          .collection<{ _id: string }>(coll)
          .insertOne({ ...mixedDocument(7), _id: MISSING_ID });
      },
    });
    stack = new ServiceStack(env, `missing-${s}`);
    try {
      // The oplog-applier starts once the injected slice is stored; the snapshotter has no part here.
      await stack.startAll(['job-state', 'slice-ingest', 'head-builder', 'agent']);
    } catch (err) {
      await stack.stopAll().catch(() => undefined);
      throw err;
    }
    producer = producerFor(kafka);
    await producer.connect();
  });

  after(async () => {
    await stack?.stopAll().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await source?.stop().catch(() => undefined);
    if (backup !== undefined) {
      if (jobId !== undefined) await new MongoHeadWriter(backup).dropHead(jobId, 1).catch(() => undefined);
      for (const name of [env.TIDEMARK_META_DB, env.TIDEMARK_OPLOG_STORE_DB])
        await backup.db(name).dropDatabase();
      await backup.close();
    }
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${env.TIDEMARK_TOPIC_PREFIX}.`));
    await admin.disconnect();
    await deleteTopics(kafka, mine).catch(() => undefined);
  });

  it('an update of a document the head lacks is recorded, fetched from the source by the agent and upserted into the head', async () => {
    assert.ok(source && stack && producer);
    const src = source.client;
    const api = new JobApi(stack.apiUrl);
    const store = new MongoOplogStore(backup, env.TIDEMARK_OPLOG_STORE_DB);
    const registry = new MongoHeadRegistry(backup, env.TIDEMARK_META_DB);
    const missing = new MongoMissingDocumentStore(backup, env.TIDEMARK_META_DB);
    const status = async (): Promise<JobStatus & { syncId: string }> => {
      const st = await api.call<JobStatus & { syncId: string }>('GET', `/api/v1/jobs/${jobId}/status`);
      if (st.blocked) throw new Error(`job blocked: ${JSON.stringify(st.blocked)}`);
      return st;
    };

    // 1. The transfer, with a writer on the source so that its window holds entries.
    await api.ensureProject('e2e');
    const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'e2e',
      source: { uri: source.uri },
      include: [db],
    });
    jobId = job.id;
    const writer = new AbortController();
    const writing = runWriter(src, [orders, noise], writer.signal, 50);
    const t0 = Date.now();
    let st: JobStatus & { syncId: string };
    try {
      // The transfer's startTs is then a write of the writer's, and more follow while the scan runs.
      await until('the writer to write', async () => (await latestSourceTs(src)).t > 0);
      await api.call('POST', `/api/v1/jobs/${job.id}/start`);
      st = await until(
        'the head to be built (phase applying-oplogs)',
        async () => {
          const now = await status();
          return now.phase === 'applying-oplogs' && now;
        },
        STEP_TIMEOUT_MS,
      );
    } finally {
      writer.abort();
    }
    console.log(`head built after ${Date.now() - t0} ms; writer did ${JSON.stringify(await writing)}`);
    const syncId = st.syncId;
    const head = await registry.get(job.id, syncId);
    assert.ok(head?.scan, 'the transfer catalog is recorded');
    const { startTs, endTs } = head.scan;
    assert.ok(
      compareOpTime(startTs, endTs) < 0,
      `the transfer window (${formatOpTime(startTs)}, ${formatOpTime(endTs)}] holds source entries`,
    );
    const sourceTs = await latestSourceTs(src);
    await until(
      'the agent to store the oplog up to the source position',
      async () => {
        const stored = await store.latestOplogTs(job.id, syncId);
        return stored !== undefined && compareOpTime(stored, sourceTs) >= 0;
      },
      STEP_TIMEOUT_MS,
    );

    // 2. X leaves the head; the window is shipped again with a $v:2 update of X in it.
    const headCustomers = st.head.namespaces[customers];
    assert.ok(headCustomers, `the head maps ${customers}`);
    const headColl = backup
      .db(splitNamespace(headCustomers).db)
      .collection(splitNamespace(headCustomers).coll);
    assert.equal((await headColl.deleteOne({ _id: MISSING_ID } as Document)).deletedCount, 1);
    const window = await storedEntries(store, job.id, syncId, startTs);
    assert.ok(window.slices >= 2, `the agent cut ${window.slices} slice(s) since startTs: need two or more`);
    const taken = window.entries.map(entryTs);
    const at = freeTs(startTs, endTs, taken);
    const update = diffUpdate(at, customers, MISSING_ID, {
      u: { name: 'set by an update of a missing document' },
    });
    const entries = [
      ...window.entries.filter((_, k) => compareOpTime(taken[k]!, at) < 0),
      update,
      ...window.entries.filter((_, k) => compareOpTime(taken[k]!, at) > 0),
    ];
    const sliceId = oplogSliceId(syncId, startTs, window.lastTs);
    assert.equal(await store.getMeta(sliceId), undefined, `${sliceId} is not one of the agent's slices`);
    const injected = oplogSlice(job.id, startTs, window.lastTs, entries, { syncId, sequence: window.slices });
    await new KafkaSlicePublisher(
      producer,
      resolveTopics({ prefix: env.TIDEMARK_TOPIC_PREFIX }),
    ).publishSlice(injected.meta, injected.payload);
    await until(
      'slice-ingest to store the injected slice',
      async () => {
        await status();
        return (await store.getMeta(sliceId)) !== undefined;
      },
      STEP_TIMEOUT_MS,
    );
    console.log(
      `injected ${sliceId}: ${window.entries.length} stored entries of ${window.slices} slices and the update at ` +
        `${formatOpTime(at)}, window (${formatOpTime(startTs)}, ${formatOpTime(endTs)}]`,
    );

    // 3. The oplog-applier applies it, records X missing and asks for it; the agent fetches it.
    assert.equal(await headColl.countDocuments({ _id: MISSING_ID } as Document), 0, 'X is not in the head');
    await stack.start('oplog-applier');
    const phasesSeen = new Set<string | null>();
    st = await until(
      'the job to become active',
      async () => {
        const now = await status();
        phasesSeen.add(now.phase);
        return now.state === 'active' && now;
      },
      STEP_TIMEOUT_MS,
    );
    console.log(
      `active ${Date.now() - t0} ms after the start (phases seen: ${[...phasesSeen].join(', ')}); agent: ` +
        JSON.stringify(agentEvents(stack, 'missing-batch-fetched')),
    );
    assert.equal(st.phase, 'complete');
    assert.ok(
      st.appliedOpTime !== null && tsGte(parseTs(st.appliedOpTime), sourceTs),
      'applied to the source position',
    );

    // The outcome: X in the head is the source's, byte for byte, and the head equals the source.
    const sourceX = await src
      .db(splitNamespace(customers).db)
      .collection(splitNamespace(customers).coll)
      .findOne({ _id: MISSING_ID } as Document, { raw: true });
    assert.ok(sourceX, 'X is at the source');
    const headX = await headColl.findOne({ _id: MISSING_ID } as Document, { raw: true });
    assert.ok(headX, 'X is in the head');
    assert.ok(
      Buffer.from(headX as unknown as Uint8Array).equals(Buffer.from(sourceX as unknown as Uint8Array)),
      `X in the head ${EJSON.stringify(BSON.deserialize(headX as unknown as Uint8Array))} is the source's`,
    );
    const problems = await compareHeads(src, backup, st.head.namespaces);
    assert.deepEqual(problems, [], problems.join('\n'));

    // Recorded by the applier.
    assert.equal(await missing.count(job.id, syncId), 1, 'one missing document recorded');
    const ids: string[] = [];
    for await (const id of missing.ids(job.id, syncId, customers)) ids.push(id);
    assert.deepEqual(ids, [EJSON.stringify(MISSING_ID, { relaxed: false })]);

    // Fetched by the agent: its `missing` slice holds X's source bytes, its catalog counts it, the
    // head-builder built it.
    const fetched = (await store.list(job.id, syncId, 'initial')).filter(
      (m): m is InitialSliceMeta => m.kind === 'initial' && m.origin === 'missing',
    );
    assert.deepEqual(
      fetched.map((m) => [m.namespace, m.docCount]),
      [[customers, 1]],
      'one missing-documents slice holding one document',
    );
    const slice = await store.get(fetched[0]!.sliceId);
    assert.ok(slice);
    const docs = decodeSlicePayload(slice.payload, slice.meta, DEFAULT_SLICE_LIMITS);
    assert.ok(
      Buffer.from(sourceX as unknown as Uint8Array).equals(docs[0]!),
      'the fetched bytes are the source’s',
    );
    assert.ok(await registry.isBuilt(fetched[0]!.sliceId), 'the head-builder built the fetched slice');
    assert.ok(
      await store.getMeta(catalogSliceId(syncId, 'missing')),
      'the missing-documents catalog is stored',
    );
    assert.deepEqual((await registry.get(job.id, syncId))?.missing?.namespaces, [
      { ns: customers, sliceCount: 1, docCount: 1 },
    ]);
  });
});
