/**
 * oplog-applier against real Kafka and the backup-side MongoDB (FerretDB), booted in-process exactly as `main.ts`
 * boots it, with a topic prefix, a meta database and an oplog store database of its own per test. The head record
 * (`recordScanCatalog`) and the head collection are prepared as head-builder leaves them, oplog slices (i, u as
 * FerretDB's whole-document `$set`, d; `$v:2` diffs and commands in MongoDB's format) are stored with
 * `MongoOplogStore`, and the job is put in phase `applying-oplogs` in job-state's `jobs` collection. Proves:
 * - the head ends with exactly the expected documents, BSON types and field order included, and `appliedTs` is
 *   the last slice's `lastTs`; when nothing was missing one FETCH_MISSING_DOCUMENTS command with `batches=0`
 *   is published, after PhaseChanged{FETCHING_MISSING_DOCUMENTS, missingDocuments=0}; `/metrics` counts the
 *   applied slices and entries (and, in the second test, the stopped job's error by class);
 * - redelivery changes nothing: overlapping slices stored again (as a restarted agent cuts them), the position
 *   rolled back as a crash between applying and storing it leaves it, the app restarted: the head is byte for
 *   byte the same, the position returns to the same place, no second command is sent;
 * - an update whose document is missing is recorded and requested (`batches=1` with its id); a slice that holds an
 *   unknown command stops only that job, with one AlertRaised{APPLY_FAILED, CRITICAL}, and /readyz says why;
 * - a SliceStored claim wakes the scheduler (with a 60 s scan interval, the slice is applied at once);
 * - a claim that cannot be decoded goes to `tidemark.slices.stored.dlq` with its reason, and the consumer goes on
 *   to the next claim.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Binary, BSON, Double, EJSON, Int32, Long, Timestamp, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { WRAPPED_VALUES } from '@tidemark/head-database-mongo';
import {
  DLQ_HEADERS,
  ensureTopics,
  opTimeFromAvroLong,
  opTimeToAvroLong,
  publish,
  resolveTopics,
  topicList,
  type AlertRaised,
  type JobCommand,
  type PhaseChanged,
  type Topic,
  type Topics,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { headDatabaseName, type OpTime, type OplogSliceMeta } from '@tidemark/domain';
import { MongoHeadRegistry } from '@tidemark/head-database-mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import type { RunningService } from '@tidemark/service-shell';
import {
  command,
  diffUpdate,
  ferretUpdate,
  getJson,
  insert,
  oplogSlice,
  remove,
  scrapeMetrics,
  sumSamples,
  ts,
  until,
  type HttpAnswer,
  type MetricSample,
  type TestSlice,
} from '@tidemark/testing';
import { TestKafka, type TopicReader } from '@tidemark/bus-testing';
import { startOplogApplier } from '../src/oplog-applier-service';

const endpoints = resolveEndpoints();
const T0 = 1_700_000_000;
const NS = 'shop.orders';

type Slice = TestSlice<OplogSliceMeta>;

/** Everything one test owns: topics, databases, clients, the running app. */
class Harness {
  readonly suffix = randomBytes(4).toString('hex');
  readonly prefix = `it-apply-${this.suffix}`;
  readonly metaDb = `tidemark_meta_it_${this.suffix}`;
  readonly storeDb = `tidemark_oplogstore_it_${this.suffix}`;
  readonly env: NodeJS.ProcessEnv;
  readonly topics: Topics;
  readonly bus = new TestKafka(endpoints.kafka.brokers, this.prefix);
  readonly jobs: string[] = [];
  app: RunningService | undefined;
  private mongoClient: MongoClient | undefined;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.env = {
      ...process.env,
      PORT: '0',
      TIDEMARK_TOPIC_PREFIX: this.prefix,
      TIDEMARK_META_DB: this.metaDb,
      TIDEMARK_OPLOG_STORE_DB: this.storeDb,
      TIDEMARK_TOPIC_PARTITIONS: 'slices=2,control=1,dead-letter=1',
      TIDEMARK_APPLY_TICK_MS: '300',
      TIDEMARK_APPLY_LEASE_MS: '5000',
      ...extraEnv,
    };
    this.topics = resolveTopics({ prefix: this.prefix, env: this.env });
  }

  jobId(tag: string): string {
    const id = `${tag}${this.suffix}`;
    this.jobs.push(id);
    return id;
  }

  async mongo(): Promise<MongoClient> {
    this.mongoClient ??= await MongoClient.connect(endpoints.backup.uri);
    return this.mongoClient;
  }

  async store(): Promise<MongoOplogStore> {
    const store = new MongoOplogStore(await this.mongo(), this.storeDb);
    await store.init();
    return store;
  }

  async start(): Promise<RunningService> {
    this.app = await startOplogApplier({ env: this.env });
    return this.app;
  }

  async stop(): Promise<void> {
    await this.app?.app.close();
    this.app = undefined;
  }

  /** What head-builder and job-state leave: head record, head collection with the scanned documents, job phase. */
  async addJob(jobId: string, startTs: OpTime, endTs: OpTime, scanned: Document[]): Promise<void> {
    const mongo = await this.mongo();
    const registry = new MongoHeadRegistry(mongo, this.metaDb);
    await registry.init();
    await registry.recordScanCatalog(jobId, `${jobId}-s1`, 1, {
      startTs,
      endTs,
      namespaces: [{ ns: NS, headNs: this.headNs(jobId), sliceCount: 1, docCount: scanned.length }],
    });
    const head = this.headCollection(mongo, jobId);
    if (scanned.length > 0) await head.insertMany(scanned);
    await mongo
      .db(this.metaDb)
      .collection<Document & { _id: string }>('jobs')
      .insertOne({
        _id: jobId,
        jobId,
        state: 'initial-sync',
        syncId: `${jobId}-s1`,
        syncNo: 1,
        phase: 'applying-oplogs',
      });
  }

  headNs(jobId: string): string {
    return `${headDatabaseName(jobId, 1, 'shop')}.orders`;
  }

  headCollection(mongo: MongoClient, jobId: string) {
    return mongo.db(headDatabaseName(jobId, 1, 'shop')).collection<Document>('orders');
  }

  async put(...slices: Slice[]): Promise<string[]> {
    const store = await this.store();
    const outcomes: string[] = [];
    for (const s of slices) outcomes.push(await store.put(s.meta, s.payload));
    return outcomes;
  }

  /** Publishes the SliceStored claim check slice-ingest would publish. */
  async claim(slice: Slice): Promise<void> {
    const m = slice.meta;
    await publish(await this.bus.producer(), this.topics.slicesStored, {
      jobId: m.jobId,
      syncId: m.syncId,
      sliceId: m.sliceId,
      kind: 'OPLOG',
      origin: null,
      sequence: BigInt(m.sequence),
      namespace: null,
      prevTs: opTimeToAvroLong(m.prevTs),
      firstTs: m.firstTs === undefined ? null : opTimeToAvroLong(m.firstTs),
      lastTs: opTimeToAvroLong(m.lastTs),
      docCount: BigInt(m.docCount),
      compressedBytes: BigInt(m.compressedBytes),
      storedAt: new Date(),
    });
  }

  /** The head's documents by `_id`, decoded with wrapper values, as canonical Extended JSON (types and order). */
  async headDocs(jobId: string): Promise<string> {
    const docs = await this.headCollection(await this.mongo(), jobId)
      .find({}, WRAPPED_VALUES)
      .sort({ _id: 1 })
      .toArray();
    return EJSON.stringify(docs, { relaxed: false });
  }

  /** The head's documents as the raw bytes the server returns. */
  async headBytes(jobId: string): Promise<string[]> {
    const raw = await this.headCollection(await this.mongo(), jobId)
      .find({}, { raw: true })
      .sort({ _id: 1 })
      .toArray();
    return raw.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex'));
  }

  async head(jobId: string): Promise<Document | null> {
    return (await this.mongo())
      .db(this.metaDb)
      .collection<Document & { _id: string }>('heads')
      .findOne({ _id: `${jobId}/${jobId}-s1` });
  }

  /** Who holds the job's apply lease. */
  async leaseOwner(jobId: string): Promise<unknown> {
    const lease = await (
      await this.mongo()
    )
      .db(this.metaDb)
      .collection<Document & { _id: string }>('leases')
      .findOne({ _id: `apply:${jobId}` });
    return lease?.['owner'];
  }

  /** The applied position: its own document in `head_positions` (docs/format.md, "Head records"). */
  async appliedTs(jobId: string): Promise<OpTime | undefined> {
    const position = await (
      await this.mongo()
    )
      .db(this.metaDb)
      .collection<Document & { _id: string }>('head_positions')
      .findOne({ _id: `${jobId}/${jobId}-s1` });
    const at = position?.['appliedTs'] as Timestamp | undefined;
    return at === undefined ? undefined : { t: at.t, i: at.i };
  }

  async reader(topic: Topic): Promise<TopicReader> {
    await ensureTopics(this.bus.kafka, topicList(this.topics));
    return this.bus.reader(topic);
  }

  readyz(): Promise<HttpAnswer<Record<string, unknown>>> {
    return getJson(`${this.app!.url}/readyz`);
  }

  metrics(): Promise<MetricSample[]> {
    return scrapeMetrics(this.app!.url);
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.bus.cleanup([`${this.prefix}.tidemark-oplog-applier`]);
    const mongo = await this.mongo();
    for (const db of [this.metaDb, this.storeDb, ...this.jobs.map((j) => headDatabaseName(j, 1, 'shop'))]) {
      await mongo.db(db).dropDatabase();
    }
    await mongo.close();
  }
}

const fetchCommands = (reader: TopicReader, jobId: string): JobCommand[] =>
  reader
    .records('tidemark.commands.JobCommand')
    .filter((c) => c.jobId === jobId && c.action === 'FETCH_MISSING_DOCUMENTS');
const phasesOf = (reader: TopicReader, jobId: string): PhaseChanged[] =>
  reader.records('tidemark.phases.PhaseChanged').filter((p) => p.jobId === jobId);
const alertsOf = (reader: TopicReader, jobId: string): AlertRaised[] =>
  reader.records('tidemark.alerts.AlertRaised').filter((a) => a.jobId === jobId);

const same = (a: OpTime | undefined, b: OpTime) => a !== undefined && a.t === b.t && a.i === b.i;
const appliedOf = (p: PhaseChanged) => (p.appliedTs === null ? undefined : opTimeFromAvroLong(p.appliedTs));
const canonical = (docs: Document[]) =>
  EJSON.stringify(
    docs.map((d) => BSON.deserialize(BSON.serialize(d), WRAPPED_VALUES)),
    { relaxed: false },
  );

describe('oplog-applier against real Kafka and the backup MongoDB', () => {
  const harnesses: Harness[] = [];
  const harness = (env?: NodeJS.ProcessEnv) => {
    const h = new Harness(env);
    harnesses.push(h);
    return h;
  };
  after(async () => {
    for (const h of harnesses) await h.cleanup();
  });

  it('applies i/u/d slices to the head, stores appliedTs, requests missing documents with batches=0; redelivery changes nothing', async () => {
    const h = harness();
    const job = h.jobId('ja');
    const at = (s: number, i = 1) => ts(T0 + s, i);
    await h.addJob(job, at(0, 0), at(20, 0), [
      { _id: new Int32(1), a: new Int32(1) },
      { _id: new Int32(2), a: new Int32(2) },
    ]);
    // Types FerretDB 1.24 stores faithfully: it drops the sign of -0.0 and closes the connection on Decimal128
    // (both covered on the no-server side by the head-store's fidelity specs).
    const typed = (n: number, s: string) => ({
      _id: new Int32(3),
      n: new Int32(n),
      l: Long.fromBigInt(2n ** 40n + BigInt(n)),
      d: new Double(n + 0.5),
      whole: new Double(2),
      s,
    });
    const e = {
      i3: insert(at(1), NS, typed(3, 'x')),
      u1: ferretUpdate(at(2), NS, {
        _id: new Int32(1),
        a: new Int32(10),
        nested: { x: [new Int32(1), new Int32(2)] },
      }),
      d2: remove(at(3), NS, new Int32(2)),
      u3: ferretUpdate(at(11), NS, typed(4, 'y')),
      i4: insert(at(12), NS, { _id: new Int32(4), a: new Int32(4) }),
      d4: remove(at(21), NS, new Int32(4)),
      i5: insert(at(22), NS, {
        _id: new Int32(5),
        when: new Date(0),
        bin: new Binary(Buffer.from([1, 2, 3]), 0),
      }),
    };
    const s1 = oplogSlice(job, at(0, 0), at(10, 0), [e.i3, e.u1, e.d2]);
    const s2 = oplogSlice(job, at(10, 0), at(20, 0), [e.u3, e.i4]);
    const s3 = oplogSlice(job, at(20, 0), at(30, 0), [e.d4, e.i5]);
    assert.deepEqual(await h.put(s1, s2, s3), ['stored', 'stored', 'stored']);
    const commands = await h.reader(h.topics.commands);
    const phases = await h.reader(h.topics.phases);

    await h.start();
    await until('appliedTs at the last slice', async () => same(await h.appliedTs(job), at(30, 0)));
    const expected = canonical([
      { _id: new Int32(1), a: new Int32(10), nested: { x: [new Int32(1), new Int32(2)] } },
      typed(4, 'y'),
      { _id: new Int32(5), when: new Date(0), bin: new Binary(Buffer.from([1, 2, 3]), 0) },
    ]);
    assert.equal(await h.headDocs(job), expected);

    const [fetch] = await until('the FETCH_MISSING_DOCUMENTS command', () => {
      const found = fetchCommands(commands, job);
      return found.length > 0 && found;
    });
    assert.deepEqual(fetch?.params, { syncId: `${job}-s1`, batch: '0', batches: '0', ns: '', ids: '[]' });
    const fetching = phasesOf(phases, job).find((p) => p.phase === 'FETCHING_MISSING_DOCUMENTS');
    assert.equal(fetching?.stage, 'oplog-applier');
    assert.equal(fetching?.details['missingDocuments'], '0');
    assert.ok(same(appliedOf(fetching!), at(20, 0)), 'requested when the position reached endTs');
    assert.ok((await h.head(job))?.['missingRequestedAt'] instanceof Date);
    await until('a progress report with the applied position', () =>
      phasesOf(phases, job).some((p) => same(appliedOf(p), at(30, 0))),
    );
    assert.equal((await h.readyz()).status, 200);
    // Its metrics: the 7 entries of the 3 slices applied (the apply rate's counter), no failure.
    const metrics = await h.metrics();
    assert.equal(sumSamples(metrics, 'tidemark_oplog_entries_applied_total'), 7);
    assert.equal(sumSamples(metrics, 'tidemark_slices_total', { kind: 'oplog', outcome: 'applied' }), 3);
    assert.equal(sumSamples(metrics, 'tidemark_errors_total'), 0);

    // Redelivery: a restarted agent's overlapping slices, the same slices again, and a crash that left the
    // position behind the data (applied, not yet stored).
    const bytes = await h.headBytes(job);
    const lease = await h.leaseOwner(job);
    await h.stop();
    const r1 = oplogSlice(job, at(5, 0), at(25, 0), [e.u3, e.i4, e.d4, e.i5], { tag: ':restart' });
    assert.deepEqual(await h.put(r1, s1, s2, s3), ['stored', 'duplicate', 'duplicate', 'duplicate']);
    await (
      await h.mongo()
    )
      .db(h.metaDb)
      .collection<Document & { _id: string }>('head_positions')
      .updateOne({ _id: `${job}/${job}-s1` }, { $set: { appliedTs: new Timestamp({ t: T0 + 5, i: 0 }) } });
    await h.start();
    for (const s of [r1, s1, s2, s3]) await h.claim(s);
    await until('appliedTs back at the last slice', async () => same(await h.appliedTs(job), at(30, 0)));
    await until('the restarted app holds the lease', async () => {
      const owner = await h.leaseOwner(job);
      return owner !== undefined && owner !== lease;
    });
    await new Promise((r) => setTimeout(r, 1500)); // a few more ticks and the claims
    assert.deepEqual(await h.headBytes(job), bytes, 'the head is byte for byte the same');
    assert.equal(await h.headDocs(job), expected);
    assert.deepEqual(await h.appliedTs(job), at(30, 0));
    assert.equal(fetchCommands(commands, job).length, 1, 'no second FETCH_MISSING_DOCUMENTS');
  });

  it('records and requests a missing document; an unknown command stops only its job, with one alert; a claim wakes the scheduler', async () => {
    const h = harness({ TIDEMARK_APPLY_TICK_MS: '60000' });
    const good = h.jobId('jm');
    const bad = h.jobId('jf');
    const at = (s: number, i = 1) => ts(T0 + s, i);
    await h.addJob(good, at(0, 0), at(10, 0), [{ _id: new Int32(1), a: new Int32(1) }]);
    await h.addJob(bad, at(0, 0), at(10, 0), []);
    await h.put(
      oplogSlice(good, at(0, 0), at(10, 0), [
        diffUpdate(at(1), NS, new Int32(1), { u: { a: new Int32(2) } }),
        diffUpdate(at(2), NS, new Int32(42), { u: { a: new Int32(9) } }),
      ]),
      oplogSlice(bad, at(0, 0), at(10, 0), [
        insert(at(1), NS, { _id: new Int32(1) }),
        command(at(2), 'shop', { frobnicate: 'orders' }),
      ]),
    );
    const commands = await h.reader(h.topics.commands);
    const alerts = await h.reader(h.topics.alerts);
    await h.start();

    const [fetch] = await until('the FETCH_MISSING_DOCUMENTS command', () => {
      const found = fetchCommands(commands, good);
      return found.length > 0 && found;
    });
    assert.deepEqual(fetch?.params, {
      syncId: `${good}-s1`,
      batch: '1',
      batches: '1',
      ns: NS,
      ids: '[{"$numberInt":"42"}]',
    });
    const missing = await (
      await h.mongo()
    )
      .db(h.metaDb)
      .collection('missing_documents')
      .find({ jobId: good })
      .toArray();
    assert.deepEqual(
      missing.map((m) => [m['ns'], m['id'], m['targetNs']]),
      [[NS, '{"$numberInt":"42"}', h.headNs(good)]],
    );
    assert.equal(await h.headDocs(good), canonical([{ _id: new Int32(1), a: new Int32(2) }]));

    const [alert] = await until(
      'the APPLY_FAILED alert',
      () => alertsOf(alerts, bad).length > 0 && alertsOf(alerts, bad),
    );
    assert.equal(alert?.code, 'APPLY_FAILED');
    assert.equal(alert?.severity, 'CRITICAL');
    assert.match(alert?.message ?? '', /frobnicate/);
    assert.equal(alert?.context['appliedTs'], `${T0}:0`);
    assert.deepEqual(await h.appliedTs(bad), at(0, 0), 'nothing of the failed slice counts as applied');
    const ready = await h.readyz();
    assert.equal(ready.status, 503);
    assert.match(JSON.stringify(ready.body), new RegExp(`job ${bad} .*apply stopped.*frobnicate`));
    const failed = { class: 'UnknownOplogCommandError', retriable: 'false' };
    assert.equal(sumSamples(await h.metrics(), 'tidemark_errors_total', failed), 1, 'counted by class, once');

    // The scan runs every 60 s here: only the claim check can make the next slice apply now.
    const next = oplogSlice(good, at(10, 0), at(20, 0), [insert(at(11), NS, { _id: new Int32(7) })]);
    await h.put(next);
    await h.claim(next);
    await until(
      'the woken scheduler applied the new slice',
      async () => same(await h.appliedTs(good), at(20, 0)),
      30_000,
    );
    assert.equal(alertsOf(alerts, bad).length, 1, 'alerted once');
  });
  it('dead-letters a claim that cannot be decoded, with its reason, and goes on to the next claim', async () => {
    const h = harness({ TIDEMARK_APPLY_TICK_MS: '60000' });
    const job = h.jobId('jg');
    const at = (s: number, i = 1) => ts(T0 + s, i);
    await h.addJob(job, at(0, 0), at(10, 0), []);
    const dlq = await h.reader(h.topics.slicesStoredDlq);
    await h.start();

    // Garbage first, then a good claim on the same partition (same key): only the claim can wake the job.
    const slice = oplogSlice(job, at(0, 0), at(20, 0), [insert(at(11), NS, { _id: new Int32(7) })]);
    await h.put(slice);
    await (
      await h.bus.producer()
    ).send({
      topic: h.topics.slicesStored.name,
      acks: -1,
      messages: [{ key: job, value: Buffer.from('not a SliceStored') }],
    });
    await h.claim(slice);
    await until(
      'the claim after the garbage woke the scheduler',
      async () => same(await h.appliedTs(job), at(20, 0)),
      30_000,
    );

    const [letter] = await until('the dead letter', () => dlq.messages.length > 0 && dlq.messages);
    assert.equal(letter?.key?.toString(), job, 'the original key is kept');
    assert.equal(letter?.value?.toString(), 'not a SliceStored', 'the original bytes are kept');
    const header = (name: string) => letter?.headers?.[name]?.toString();
    assert.match(header(DLQ_HEADERS.reason) ?? '', /undecodable: .*bad-marker/);
    assert.equal(header(DLQ_HEADERS.sourceTopic), h.topics.slicesStored.name);
    assert.equal((await h.readyz()).status, 200, 'a dead-lettered claim halts nothing');
  });
});
