/**
 * End to end: snapshots taken while a writer mutates the source equal the source at their recorded position, in each
 * of the three stores. All six services run as processes (agent -> slice-ingest -> head-builder / oplog-applier,
 * snapshotter, job-state); one job per store backs up the same source, and `tidemark snapshot take` is run on each
 * while a light writer inserts, updates, replaces and deletes.
 *
 * The oracle is the source's own oplog, replayed here: the state of a namespace at position P is its documents as
 * loaded (before the source's oplog existed) with the namespace's oplog entries up to P applied in order (FerretDB's
 * `u` entries are whole replacements). Each snapshot's documents, read back from its store with `readNamespace`, must
 * equal that state document for document (canonical Extended JSON, field order included), and its counts must agree.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON, MongoClient, type Document } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import { readNamespace, verifySnapshot, type SnapshotStore, type StoreKind } from '@tidemark/snapshots';
import {
  loadedTestSource,
  runWriter,
  seedSource,
  ServiceStack,
  type TestSource,
  type WriterStats,
} from '@tidemark/testing';
import { JobApi, suffix, type JobStatus } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
const KINDS: StoreKind[] = ['blockstore', 's3', 'filesystem'];
/** Snapshots per store, taken while the writer runs. */
const SNAPSHOTS = 2;
/** Light: the end-to-end specs run two at a time, and the fairness spec is sensitive to CPU load. */
const WRITES_PER_SECOND = 8;

/** Canonical Extended JSON of raw BSON, numbers' types kept: what "equal" means here. */
const canonical = (doc: Document): string => BSON.EJSON.stringify(doc, { relaxed: false });
const parse = (bytes: Uint8Array): Document => BSON.deserialize(bytes, { promoteValues: false });

interface OplogEntry {
  readonly t: number;
  readonly i: number;
  readonly op: string;
  readonly ns: string;
  readonly o: Document;
  readonly o2?: Document;
}

const atOrBefore = (e: OplogEntry, at: { t: number; i: number }) =>
  e.t < at.t || (e.t === at.t && e.i <= at.i);

/**
 * The namespace's documents at position (t, i): `initial` with every entry of the namespace up to it applied (but
 * `skip`, if given), keyed by the canonical `_id`, as canonical Extended JSON. FerretDB logs every update as
 * `{ $v: 1, $set: <the whole new document> }`: a replacement.
 */
function stateAt(
  initial: ReadonlyMap<string, string>,
  oplog: readonly OplogEntry[],
  ns: string,
  at: { t: number; i: number },
  skip?: OplogEntry,
): Map<string, string> {
  const docs = new Map(initial);
  for (const e of oplog) {
    if (!atOrBefore(e, at)) break;
    if (e.ns !== ns || e === skip) continue;
    if (e.op === 'i') docs.set(canonical({ _id: e.o['_id'] }), canonical(e.o));
    else if (e.op === 'd') docs.delete(canonical({ _id: e.o['_id'] }));
    else if (e.op === 'u') {
      const whole = (e.o['$set'] ?? e.o) as Document;
      const operators = Object.keys(e.o).filter((k) => k.startsWith('$') && k !== '$v' && k !== '$set');
      assert.ok(
        operators.length === 0 && Object.keys(whole).every((k) => !k.startsWith('$')) && '_id' in whole,
        `not a whole-document update: ${canonical(e.o)}`,
      );
      assert.equal(
        canonical({ _id: whole['_id'] }),
        canonical({ _id: e.o2?.['_id'] }),
        'o2._id is not o._id',
      );
      docs.set(canonical({ _id: whole['_id'] }), canonical(whole));
    } else assert.fail(`unexpected oplog entry ${e.op} on ${e.ns}`);
  }
  return docs;
}

/** Ids whose documents differ (or that only one side has). */
function differences(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): string[] {
  return [...new Set([...expected.keys(), ...actual.keys()])].filter(
    (id) => expected.get(id) !== actual.get(id),
  );
}

describe('snapshots while a writer runs equal the source at their position (all six services)', () => {
  let source: TestSource;
  let stack: ServiceStack;
  let backup: MongoClient;
  let dir: string;
  const s = suffix();
  const db = `e2esn${s}_shop`;
  const namespaces = [`${db}.orders`, `${db}.customers`];
  const snapshotDb = `e2e_snap_${s}`;
  const env = {
    TIDEMARK_TOPIC_PREFIX: `e2e-snapshots-${s}`,
    TIDEMARK_META_DB: `e2e_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
    TIDEMARK_SNAPSHOT_DB: snapshotDb,
    TIDEMARK_SNAPSHOT_S3_PREFIX: `e2e-${s}`,
    TIDEMARK_SLICE_TARGET_BYTES: String(512 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_APPLY_LEASE_MS: '4000',
    TIDEMARK_EFFECTS_FLUSH_MS: '500',
  };
  const s3Client = createS3Client(resolveEndpoints().s3, { maxAttempts: 1 });
  const jobIds: string[] = [];
  const stores = new Map<string, SnapshotStore>();

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-snapshots-'));
    source = await loadedTestSource({
      name: 'e2e-snapshots',
      oplogBytes: 16 * 1024 * 1024,
      load: (client) => seedSource(client, { collections: { [namespaces[0]!]: 800, [namespaces[1]!]: 400 } }),
    });
    stack = new ServiceStack(env, `snapshots-${s}`);
    await stack.startAll();
  });

  after(async () => {
    await stack?.stopAll();
    for (const [jobId, store] of stores) await store.deleteJob(jobId).catch(() => undefined);
    await source?.client.db(db).dropDatabase();
    await source?.stop();
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      const mine =
        [env.TIDEMARK_META_DB, env.TIDEMARK_OPLOG_STORE_DB, snapshotDb].includes(d.name) ||
        jobIds.some((id) => d.name.startsWith(`th_${id}_`));
      if (mine) await backup.db(d.name).dropDatabase();
    }
    await backup?.close();
    s3Client.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${SNAPSHOTS} snapshots per store (${KINDS.join(', ')}), each equal to the source replayed to its position`, async () => {
    const api = new JobApi(stack.apiUrl);
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args],
          { cwd: ROOT, env: { ...process.env, TIDEMARK_API_URL: stack.apiUrl }, timeout: 300_000 },
          (err, stdout, stderr) =>
            resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
        );
      });

    // The source as loaded: nothing has written to it since (its oplog is empty until the writer starts).
    const initial = new Map<string, Map<string, string>>();
    for (const ns of namespaces) {
      const [dbName, coll] = [ns.slice(0, ns.indexOf('.')), ns.slice(ns.indexOf('.') + 1)];
      const raw = await source.client.db(dbName).collection(coll).find({}, { raw: true }).toArray();
      const docs = raw.map((bytes) => parse(bytes as unknown as Uint8Array));
      initial.set(ns, new Map(docs.map((d) => [canonical({ _id: d['_id'] }), canonical(d)])));
    }

    const writer = new AbortController();
    const writing = runWriter(source.client, namespaces, writer.signal, WRITES_PER_SECOND);
    const taken: Array<{ kind: StoreKind; jobId: string; snapshotId: string }> = [];
    let stats: WriterStats;
    const t0 = Date.now();
    try {
      for (const kind of KINDS) {
        const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
          project: 'e2e',
          source: { uri: source.uri },
          include: [db],
          snapshotStore: kind === 'filesystem' ? { kind, path: path.join(dir, 'fs') } : { kind },
        });
        jobIds.push(job.id);
        await api.call('POST', `/api/v1/jobs/${job.id}/start`);
      }
      for (const jobId of jobIds) {
        for (;;) {
          const status = await api.call<JobStatus>('GET', `/api/v1/jobs/${jobId}/status`);
          if (status.blocked) throw new Error(`job blocked: ${JSON.stringify(status.blocked)}`);
          if (status.state === 'active') break;
          assert.ok(
            Date.now() - t0 < 240_000,
            `job ${jobId} not active after 240 s: ${JSON.stringify(status)}`,
          );
          await sleep(1000);
        }
      }
      console.log(`three jobs active after ${Date.now() - t0} ms`);
      for (let round = 0; round < SNAPSHOTS; round++) {
        await sleep(1500); // the writer moves the source on between snapshots
        const views = await Promise.all(
          KINDS.map(async (kind, k) => {
            const result = await cli('snapshot', 'take', jobIds[k]!, '--json', '--timeout', '120');
            assert.equal(result.code, 0, `${kind}: ${result.stderr}`);
            return JSON.parse(result.stdout) as { id: string; state: string };
          }),
        );
        for (const [k, view] of views.entries()) {
          assert.equal(view.state, 'complete');
          taken.push({ kind: KINDS[k]!, jobId: jobIds[k]!, snapshotId: view.id });
        }
      }
    } finally {
      writer.abort();
      stats = await writing;
    }
    console.log(`snapshots taken after ${Date.now() - t0} ms; the writer did ${JSON.stringify(stats)}`);
    assert.ok(stats.inserts > 0 && stats.updates > 0 && stats.deletes > 0, JSON.stringify(stats));

    const oplog: OplogEntry[] = (
      await source.client
        .db('local')
        .collection('oplog.rs')
        .find({ ns: { $in: namespaces } }, { raw: true })
        .toArray()
    )
      .map((bytes) => parse(bytes as unknown as Uint8Array))
      .map((e) => ({
        t: (e['ts'] as BSON.Timestamp).t,
        i: (e['ts'] as BSON.Timestamp).i,
        op: String(e['op']),
        ns: String(e['ns']),
        o: e['o'] as Document,
        ...(e['o2'] === undefined ? {} : { o2: e['o2'] as Document }),
      }))
      .sort((a, b) => a.t - b.t || a.i - b.i);

    const positions = new Set<string>();
    for (const { kind, jobId, snapshotId } of taken) {
      let store = stores.get(jobId);
      if (store === undefined) {
        store = await createSnapshotStore(kind, {
          mongo: { client: backup, database: snapshotDb },
          ...(kind === 'filesystem' ? { filesystem: { root: path.join(dir, 'fs') } } : {}),
          ...(kind === 's3'
            ? {
                s3: {
                  client: s3Client,
                  bucket: resolveEndpoints().s3.bucket,
                  prefix: env.TIDEMARK_SNAPSHOT_S3_PREFIX,
                  classifyError: classifyS3Error,
                },
              }
            : {}),
        });
        stores.set(jobId, store);
      }
      const record = await store.getSnapshot(jobId, snapshotId);
      assert.equal(record?.state, 'complete', `${kind} ${snapshotId}`);
      const at = record!.manifest.opTime;
      positions.add(`${at.t}:${at.i}`);
      const applied = oplog.filter((e) => atOrBefore(e, at)).length;
      let controls = 0;
      assert.deepEqual(
        record!.manifest.namespaces.map((n) => n.namespace).sort(),
        [...namespaces].sort(),
        `${kind} ${snapshotId}: namespaces`,
      );
      for (const ns of record!.manifest.namespaces) {
        const expected = stateAt(initial.get(ns.namespace)!, oplog, ns.namespace, at);
        const actual = new Map<string, string>();
        for await (const bytes of readNamespace(store, record!.manifest, ns)) {
          const doc = parse(bytes);
          actual.set(canonical({ _id: doc['_id'] }), canonical(doc));
        }
        const where = `${kind} ${snapshotId} at ${at.t}:${at.i}, ${ns.namespace}`;
        assert.equal(ns.documentCount, actual.size, `${where}: the manifest's count`);
        const differ = differences(expected, actual);
        assert.deepEqual(
          differ.slice(0, 3).map((id) => ({ id, expected: expected.get(id), snapshot: actual.get(id) })),
          [],
          `${where}: ${differ.length} documents differ from the source replayed to the position (${expected.size} expected, ${actual.size} in the snapshot)`,
        );
        // The control: the last delete left out of the replay (one document too many), and the comparison sees it.
        const last = oplog.filter((e) => e.ns === ns.namespace && atOrBefore(e, at) && e.op === 'd').at(-1);
        if (last !== undefined) {
          const control = stateAt(initial.get(ns.namespace)!, oplog, ns.namespace, at, last);
          assert.notDeepEqual(differences(control, actual), [], `${where}: the control replay matched too`);
          controls++;
        }
      }
      assert.ok(controls > 0, `${kind} ${snapshotId}: no delete before the position to leave out`);
      const verified = await verifySnapshot(store, record!);
      assert.ok(verified.ok, `${kind} ${snapshotId}: ${JSON.stringify(verified.damage.slice(0, 2))}`);
      console.log(
        `${kind} ${snapshotId}: at ${at.t}:${at.i} (${applied} of ${oplog.length} source entries), ` +
          `${record!.manifest.namespaces.map((n) => `${n.namespace} ${n.documentCount}`).join(', ')}: equal`,
      );
    }
    // The writer moved the source between snapshots: they are not all of one position.
    assert.ok(positions.size > KINDS.length, `only ${positions.size} distinct positions`);
  });
});
