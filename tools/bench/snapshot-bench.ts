/**
 * `npm run bench:snapshots`: figures for snapshots on the real servers (not a test; it prints numbers). Needs the
 * servers (`npx tidemark infra up`; from a git worktree set TIDEMARK_HOME to the checkout that started them). Builds
 * head databases of its own directly on the backup-side FerretDB (databases named by `headNamespace`, a head record
 * with a scan catalog and an applied position in a meta database of its own), then, in one run:
 *  1. snapshot throughput per store (filesystem in a temp directory, blockstore in the backup-side MongoDB, s3 in
 *     moto under a prefix of its own), each a first snapshot into an empty store, divided by a plain raw-BSON scan
 *     (`find().sort({_id: 1})`, `raw: true`, summing bytes) of the same head just before it; where the take's time
 *     went (time spent waiting for the head's cursor, in head metadata, in store calls; the parts overlap),
 *     and the CPU seconds this process and each server (FerretDB, PostgreSQL, the S3 server) used during the scan and
 *     during the take, plus the head source's own scan and in-memory rates of chunking, addressing and encoding
 *     (blocks are written with TIDEMARK_BENCH_CODEC: `brotli`, the product's default, `gzip` or `none`). The stores are
 *     TIDEMARK_BENCH_STORES (default `filesystem,blockstore,s3`; `memory`, the in-process store, shows a take's
 *     cost without a store's writes);
 *  2. dedup: TIDEMARK_BENCH_SNAPSHOTS (default 10) snapshots into one store (TIDEMARK_BENCH_DEDUP_STORE, default
 *     filesystem) of a head of TIDEMARK_BENCH_SNAPSHOT_MB (default 100) MB, TIDEMARK_BENCH_CHANGE_PCT (default 1) %
 *     of the documents updated in place (same size) between snapshots: total stored bytes / the first's. The
 *     documents changed are spread at random (TIDEMARK_BENCH_CHANGE=random, the default) or one run of adjacent
 *     `_id`s (`clustered`), or both in turn (`both`). TIDEMARK_BENCH_DEDUP_CHUNK_KIB sets this phase's average chunk
 *     size (default 16 KiB, the product's);
 *  3. grooming after deleting all but the newest snapshot, and verify throughput (MB/s of plain chunk bytes);
 *  4. peak memory (VmHWM, and RSS, V8 heap and external memory sampled every 10 ms) of a child process that only
 *     takes a snapshot, at 1x, 4x and 16x TIDEMARK_BENCH_MEMORY_MB (default 10; 16x unless
 *     TIDEMARK_BENCH_MEMORY_16X=0), into an empty filesystem store, and what is still live after the take and a forced
 *     full collection.
 * The throughput head is TIDEMARK_BENCH_THROUGHPUT_MB (default 40) MB. Documents are ~600 bytes of BSON (a string
 * `_id`, a revision and 546 hex characters), half in each of two collections. The apply fence is the real
 * `MongoApplyFence`, uncontended: no oplog-applier runs, so the applied position only moves where the bench moves it.
 * Everything it creates (databases, the bucket prefix, the temp directory) is removed at the end, also on failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { BSON, Int32, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import {
  headDatabasePrefix,
  headNamespace,
  newSnapshotId,
  opTime,
  splitNamespace,
  syncIdOf,
} from '@tidemark/domain';
import { MongoApplyFence, MongoHeadRegistry, MongoHeadSource } from '@tidemark/head-database-mongo';
import { classifyMongoError } from '@tidemark/mongo';
import { classifyS3Error, createS3Client, ensureBucket } from '@tidemark/s3';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import {
  blockAddress,
  Chunker,
  DEFAULT_BLOCK_CODEC,
  DEFAULT_CHUNKING,
  encodeBlock,
  SUPPORTED_CODECS,
  groom,
  MemorySnapshotStore,
  SnapshotTaker,
  verifySnapshot,
  type ApplyFence,
  type BlockCodec,
  type BlockEncoding,
  type ChunkingOptions,
  type HeadSource,
  type SnapshotRecord,
  type SnapshotStore,
  type StoreKind,
} from '@tidemark/snapshots';

import { cpuReading, cpuSince, f, hr, log, MB, phasesFromEnv, positiveFromEnv } from './bench-support';
const env = process.env;
const num = positiveFromEnv;
// 40 MB, not 10: a take of 10 MB lasts under a second, so its ratio to the scan swung by 0.05-0.1 from run to run
// with the load around it; one of 40 MB lasts three to four.
const THROUGHPUT_MB = num('TIDEMARK_BENCH_THROUGHPUT_MB', 40);
// 100 MB, the size: ten snapshots of it took about 2 minutes per pattern on this two-core machine with
// FerretDB on PostgreSQL (README.md, "Snapshot benchmark").
const DEDUP_MB = num('TIDEMARK_BENCH_SNAPSHOT_MB', 100);
const MEMORY_MB = num('TIDEMARK_BENCH_MEMORY_MB', 10);
/**
 * Also measure at 16x (unless TIDEMARK_BENCH_MEMORY_16X=0). The peak is mostly garbage buffers V8 has not collected
 * yet (tens of MiB, depending on when its full collections fall), so one pair of sizes says little on its own; what
 * is still live after a forced full collection is reported beside it (README.md, "Snapshot benchmark").
 */
const MEMORY_SIXTEEN = env['TIDEMARK_BENCH_MEMORY_16X'] !== '0';
const SNAPSHOTS = Math.round(num('TIDEMARK_BENCH_SNAPSHOTS', 10));
const CHANGE_PCT = num('TIDEMARK_BENCH_CHANGE_PCT', 1);
/** A product store, or `memory`: the in-process store, to see what a take costs without a store's writes. */
type BenchStoreKind = StoreKind | 'memory';
const DEDUP_STORE = (env['TIDEMARK_BENCH_DEDUP_STORE'] ?? 'filesystem') as BenchStoreKind;
const STORES = (env['TIDEMARK_BENCH_STORES'] ?? 'filesystem,blockstore,s3').split(',') as BenchStoreKind[];
const CHANGE = env['TIDEMARK_BENCH_CHANGE'] ?? 'random';
/** Average chunk size of the dedup phase's snapshots in KiB (min a quarter, max 4x); unset: the defaults (16 KiB). */
const DEDUP_CHUNK_KIB = env['TIDEMARK_BENCH_DEDUP_CHUNK_KIB'];
const DEDUP_CHUNKING: ChunkingOptions | undefined =
  DEDUP_CHUNK_KIB === undefined
    ? undefined
    : {
        minSize: Math.round((Number(DEDUP_CHUNK_KIB) * 1024) / 4),
        avgSize: Math.round(Number(DEDUP_CHUNK_KIB) * 1024),
        maxSize: Math.round(Number(DEDUP_CHUNK_KIB) * 1024 * 4),
        normalization: 1,
      };
/** Concurrent `updateOne`s while changing documents. */
const CHANGE_WRITERS = 4;
const PATTERNS = (CHANGE === 'both' ? ['random', 'clustered'] : [CHANGE]) as Pattern[];
/** Which phases run (TIDEMARK_BENCH_PHASES, comma-separated; default all): throughput, dedup, memory. */
const PHASES = phasesFromEnv(['throughput', 'dedup', 'memory']);
type Pattern = 'random' | 'clustered';
/** Bytes of plain data held in memory for the in-memory chunking/encoding rates. */
const SAMPLE_BYTES = 16 * 1024 * 1024;
/** The snapshots' codec: TIDEMARK_BENCH_CODEC (`brotli`, `gzip` or `none`), by default the product's. */
const ENCODING: BlockEncoding = { codec: codecFromEnv() };
const OWNER = `snapshot-bench:${os.hostname()}:${process.pid}`;

const s = `${Date.now().toString(36).slice(-6)}${randomBytes(2).toString('hex')}`;
const META_DB = `bench_snapmeta_${s}`;
const STORE_DB_PREFIX = `bench_snap_${s}_`;
const S3_PREFIX = `bench/snap-${s}`;

/** Document `i`'s `_id`: a string, in insertion order. */
const docId = (i: number) => `d${String(i).padStart(9, '0')}`;
const since = (t0: bigint) => Number(hr() - t0) / 1e6;

/** A head database of the bench's own: two collections of ~600-byte documents, and its head record. */
class BenchHead {
  readonly syncNo = 1;
  readonly syncId: string;
  readonly namespaces = ['shop.orders', 'shop.events'];
  docs = 0;
  bytes = 0;
  private position = 1;
  private readonly payload = 273; // random bytes, written as 546 hex characters

  constructor(
    private readonly client: MongoClient,
    private readonly registry: MongoHeadRegistry,
    readonly jobId: string,
  ) {
    this.syncId = syncIdOf(jobId, this.syncNo);
  }

  async create(): Promise<void> {
    const t = Math.floor(Date.now() / 1000);
    await this.registry.recordScanCatalog(this.jobId, this.syncId, this.syncNo, {
      startTs: opTime(t, 1),
      endTs: opTime(t, 1),
      namespaces: this.namespaces.map((ns) => ({
        ns,
        headNs: headNamespace(this.jobId, this.syncNo, ns),
        sliceCount: 0,
        docCount: 0,
      })),
    });
    for (const ns of this.namespaces) {
      const { db, coll } = splitNamespace(headNamespace(this.jobId, this.syncNo, ns));
      await this.client.db(db).createCollection(coll);
    }
  }

  /** The collection of document `k` (documents alternate between the two). */
  collection(k: number) {
    const ns = this.namespaces[k % this.namespaces.length]!;
    const { db, coll } = splitNamespace(headNamespace(this.jobId, this.syncNo, ns));
    return this.client.db(db).collection<BSON.Document & { _id: string }>(coll);
  }

  /** Inserts documents until the head holds `mb` MB of BSON; moves the applied position as an applier would. */
  async growTo(mb: number): Promise<void> {
    const batch = 1000;
    while (this.bytes < mb * MB) {
      const per: (BSON.Document & { _id: string })[][] = this.namespaces.map(() => []);
      for (let n = 0; n < batch && this.bytes < mb * MB; n++, this.docs++) {
        const i = this.docs;
        const doc = {
          _id: docId(i),
          rev: new Int32(0),
          p: randomBytes(this.payload).toString('hex'),
        };
        this.bytes += BSON.calculateObjectSize(doc);
        per[i % this.namespaces.length]!.push(doc);
      }
      for (const [k, docs] of per.entries())
        if (docs.length > 0) await this.collection(k).insertMany(docs, { ordered: true });
    }
    await this.advance();
  }

  /**
   * Changes `pct` % of the documents in place (same size: an int32 `$inc` of `rev`), one `updateOne` by `_id` each
   * (FerretDB on SQLite finds a string `_id` through its index, but runs `updateMany` and `bulkWrite` one scan per
   * document), a few at a time: documents picked at random, or one run of adjacent `_id`s (a different run each round).
   */
  async change(round: number, pct: number, pattern: Pattern): Promise<number> {
    const count = Math.max(1, Math.round((pct / 100) * this.docs));
    let ids: number[];
    if (pattern === 'random') {
      const picked = new Set<number>();
      while (picked.size < count) picked.add(randomInt(this.docs));
      ids = [...picked];
    } else {
      // Rounds walk through the documents with a stride, so runs of nearby rounds do not overlap.
      const lo = Math.floor(((round * 0.37) % 1) * (this.docs - count));
      ids = Array.from({ length: count }, (_, k) => lo + k);
    }
    let changed = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = ids[next++]!;
        const res = await this.collection(i).updateOne({ _id: docId(i) }, { $inc: { rev: 1 } });
        changed += res.modifiedCount;
      }
    };
    await Promise.all(Array.from({ length: CHANGE_WRITERS }, worker));
    await this.advance();
    return changed;
  }

  private async advance(): Promise<void> {
    this.position += 1;
    await this.registry.setAppliedTs(
      this.jobId,
      this.syncId,
      opTime(Math.floor(Date.now() / 1000), this.position),
    );
  }

  /** A plain driver scan of the head: raw BSON, in `_id` order, summing bytes. */
  async rawScan(): Promise<{ bytes: number; docs: number; ms: number; cpu: string }> {
    let bytes = 0;
    let docs = 0;
    const cpu = cpuReading();
    const t0 = hr();
    for (const k of this.namespaces.keys()) {
      const scanned = await this.scanNamespace(k);
      bytes += scanned.bytes;
      docs += scanned.docs;
    }
    return { bytes, docs, ms: since(t0), cpu: cpuSince(cpu) };
  }

  /** The same scan with every namespace read at once (for comparison: a take copies two at once). */
  async rawScanAtOnce(): Promise<{ bytes: number; ms: number }> {
    const t0 = hr();
    const scanned = await Promise.all([...this.namespaces.keys()].map((k) => this.scanNamespace(k)));
    return { bytes: scanned.reduce((sum, n) => sum + n.bytes, 0), ms: since(t0) };
  }

  /** One namespace read with a plain driver cursor: raw BSON, in `_id` order, its bytes and documents counted. */
  private async scanNamespace(k: number): Promise<{ bytes: number; docs: number }> {
    let bytes = 0;
    let docs = 0;
    for await (const raw of this.collection(k).find({}, { raw: true, sort: { _id: 1 } })) {
      bytes += (raw as unknown as Uint8Array).length;
      docs++;
    }
    return { bytes, docs };
  }

  async drop(): Promise<void> {
    const prefix = headDatabasePrefix(this.jobId, this.syncNo);
    const { databases } = await this.client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) if (d.name.startsWith(prefix)) await this.client.db(d.name).dropDatabase();
    await this.registry.remove(this.jobId, this.syncId);
  }
}

/**
 * Time spent in each part of a take: waiting for the head's cursor, head metadata, block calls, other store calls,
 * fence. The parts overlap (the take reads ahead, lists while it copies, and writes blocks in parallel).
 */
interface TakeClock {
  headMs: number;
  headMetaMs: number;
  blockMs: number;
  recordLockMs: number;
  fenceMs: number;
}

const newClock = (): TakeClock => ({ headMs: 0, headMetaMs: 0, blockMs: 0, recordLockMs: 0, fenceMs: 0 });

/** Adds the time of each promise-returning call to `clock[field(name)]` (calls not named are passed through). */
function timed<T extends object>(
  inner: T,
  clock: TakeClock,
  field: (name: string) => keyof TakeClock | undefined,
): T {
  return new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      const into = field(String(prop));
      if (into === undefined) return fn.bind(target);
      return async (...args: unknown[]) => {
        const t0 = hr();
        try {
          return await fn.apply(target, args);
        } finally {
          clock[into] += since(t0);
        }
      };
    },
  });
}

function timedHead(inner: HeadSource, clock: TakeClock): HeadSource {
  return {
    listNamespaces: timed(inner, clock, () => 'headMetaMs').listNamespaces,
    appliedPosition: timed(inner, clock, () => 'headMetaMs').appliedPosition,
    ...(inner.catalogNamespaces === undefined
      ? {}
      : { catalogNamespaces: timed(inner, clock, () => 'headMetaMs').catalogNamespaces }),
    documents: (jobId, syncId, namespace) => timedItems(inner.documents(jobId, syncId, namespace), clock),
    ...(inner.documentBatches === undefined
      ? {}
      : {
          documentBatches: (jobId: string, syncId: string, namespace: string) =>
            timedItems(inner.documentBatches!(jobId, syncId, namespace), clock),
        }),
  };
}

/** `items`, adding the time spent waiting for each to `clock.headMs`. */
async function* timedItems<T>(items: AsyncIterable<T>, clock: TakeClock): AsyncIterable<T> {
  const it = items[Symbol.asyncIterator]();
  try {
    for (;;) {
      const t0 = hr();
      const next = await it.next();
      clock.headMs += since(t0);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}

const BLOCK_CALLS = new Set(['putBlock', 'putBlocks', 'hasBlock', 'hasBlocks', 'getBlock', 'deleteBlock']);
const RECORD_LOCK_CALLS = new Set([
  'putSnapshot',
  'listSnapshots',
  'getSnapshot',
  'acquireLock',
  'renewLock',
  'releaseLock',
]);

function timedStore(inner: SnapshotStore, clock: TakeClock): SnapshotStore {
  return timed(inner, clock, (name) =>
    BLOCK_CALLS.has(name) ? 'blockMs' : RECORD_LOCK_CALLS.has(name) ? 'recordLockMs' : undefined,
  );
}

function timedFence(inner: ApplyFence, clock: TakeClock): ApplyFence {
  return timed(inner, clock, () => 'fenceMs');
}

/** The three stores, each phase with a database, prefix or directory of its own. */
class Stores {
  private s3client: S3Client | undefined;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-snapbench-'));

  constructor(
    private readonly client: MongoClient,
    private readonly endpoints: ReturnType<typeof resolveEndpoints>,
  ) {}

  async open(kind: BenchStoreKind, phase: string): Promise<SnapshotStore> {
    const mongo = {
      client: this.client,
      database: `${STORE_DB_PREFIX}${phase}`,
      classifyError: classifyMongoError,
    };
    switch (kind) {
      case 'filesystem':
        return createSnapshotStore(kind, { filesystem: { root: path.join(this.tmp, phase) } });
      case 'blockstore':
        return createSnapshotStore(kind, { mongo });
      case 's3': {
        if (this.s3client === undefined) {
          this.s3client = createS3Client(this.endpoints.s3, { maxAttempts: 1 });
          await ensureBucket(this.s3client, this.endpoints.s3.bucket);
        }
        return createSnapshotStore(kind, {
          mongo,
          s3: {
            client: this.s3client,
            bucket: this.endpoints.s3.bucket,
            prefix: `${S3_PREFIX}/${phase}`,
            classifyError: classifyS3Error,
          },
        });
      }
      case 'memory':
        return new MemorySnapshotStore();
      default:
        throw new RangeError(`unknown store kind ${String(kind)}`);
    }
  }

  /** Removes every store database, object and directory of this run. */
  async cleanup(): Promise<string[]> {
    const removed: string[] = [];
    const { databases } = await this.client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases)
      if (d.name.startsWith(STORE_DB_PREFIX) || d.name === META_DB) {
        await this.client.db(d.name).dropDatabase();
        removed.push(`database ${d.name}`);
      }
    if (this.s3client !== undefined) {
      const bucket = this.endpoints.s3.bucket;
      let objects = 0;
      for (;;) {
        const page = await this.s3client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `${S3_PREFIX}/` }),
        );
        const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
        if (keys.length === 0) break;
        await this.s3client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
        objects += keys.length;
      }
      removed.push(`s3://${bucket}/${S3_PREFIX}/ (${objects} objects)`);
      this.s3client.destroy();
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
    removed.push(`directory ${this.tmp}`);
    return removed;
  }
}

interface TakeResult {
  record: SnapshotRecord;
  ms: number;
  clock: TakeClock;
  /** CPU used during the take, by this process and by the servers (`cpuSince`). */
  cpu: string;
}

async function take(
  client: MongoClient,
  registry: MongoHeadRegistry,
  head: BenchHead,
  store: SnapshotStore,
  chunking?: ChunkingOptions,
): Promise<TakeResult> {
  const clock = newClock();
  const taker = new SnapshotTaker({
    head: timedHead(new MongoHeadSource(client, registry), clock),
    fence: timedFence(new MongoApplyFence(client, META_DB), clock),
    store: timedStore(store, clock),
  });
  const cpu = cpuReading();
  const t0 = hr();
  const record = await taker.take({
    jobId: head.jobId,
    syncId: head.syncId,
    snapshotId: newSnapshotId(head.jobId, new Date()),
    owner: OWNER,
    encoding: ENCODING,
    ...(chunking === undefined ? {} : { chunking }),
  });
  const ms = since(t0);
  if (record.state !== 'complete') throw new Error(`snapshot ${record.state}: ${record.reason ?? ''}`);
  return { record, ms, clock, cpu: cpuSince(cpu) };
}

/** In-memory rates of the take's CPU steps over the first SAMPLE_BYTES of the head (documents as the head gives them). */
async function cpuRates(client: MongoClient, registry: MongoHeadRegistry, head: BenchHead) {
  const source = new MongoHeadSource(client, registry);
  const docs: Uint8Array[] = [];
  let bytes = 0;
  const t0 = hr();
  outer: for (const ns of head.namespaces.slice().sort())
    for await (const doc of source.documents(head.jobId, head.syncId, ns)) {
      docs.push(doc);
      bytes += doc.length;
      if (bytes >= SAMPLE_BYTES) break outer;
    }
  const headSourceMs = since(t0);
  const t1 = hr();
  const chunker = new Chunker(DEFAULT_CHUNKING);
  const chunks: Uint8Array[] = [];
  for (const doc of docs) for (const c of chunker.push(doc)) chunks.push(c);
  for (const c of chunker.finish()) chunks.push(c);
  const chunkMs = since(t1);
  const t2 = hr();
  const addresses = chunks.map((c) => blockAddress(c));
  const addressMs = since(t2);
  const t3 = hr();
  let encoded = 0;
  for (const [k, c] of chunks.entries())
    encoded += (await encodeBlock(c, ENCODING, addresses[k]!)).bytes.length;
  const encodeMs = since(t3);
  return { bytes, chunks: chunks.length, encoded, headSourceMs, chunkMs, addressMs, encodeMs };
}

/** Child mode: take one snapshot into an empty filesystem store and report this process's peak memory. */
async function child(): Promise<void> {
  const a = JSON.parse(env['TIDEMARK_BENCH_CHILD'] ?? '{}') as {
    uri: string;
    metaDb: string;
    jobId: string;
    syncId: string;
    root: string;
  };
  const client = await new MongoClient(a.uri).connect();
  try {
    const registry = new MongoHeadRegistry(client, a.metaDb);
    const store = await createSnapshotStore('filesystem', { filesystem: { root: a.root } });
    const taker = new SnapshotTaker({
      head: new MongoHeadSource(client, registry),
      fence: new MongoApplyFence(client, a.metaDb),
      store,
    });
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let heapPeak = 0;
    let externalPeak = 0;
    const sample = () => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapTotal);
      externalPeak = Math.max(externalPeak, m.external);
    };
    const sampler = setInterval(sample, 10);
    const t0 = hr();
    const record = await taker.take({
      jobId: a.jobId,
      syncId: a.syncId,
      snapshotId: newSnapshotId(a.jobId, new Date()),
      owner: `${OWNER}:child`,
      encoding: ENCODING,
    });
    const ms = since(t0);
    clearInterval(sampler);
    sample();
    // What is still live once the garbage is gone (the child runs with --expose-gc): two full collections, the
    // second after the first one's buffers were freed.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc?.();
    const live = process.memoryUsage();
    const hwm =
      Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
    console.log(
      JSON.stringify({
        state: record.state,
        logicalBytes: record.manifest.logicalBytes,
        ms,
        rssBefore,
        rssPeak,
        heapPeak,
        externalPeak,
        liveHeap: live.heapUsed,
        liveExternal: live.external,
        hwm,
      }),
    );
  } finally {
    await client.close();
  }
}

interface ChildReport {
  state: string;
  logicalBytes: number;
  ms: number;
  rssBefore: number;
  rssPeak: number;
  /** Peaks of the V8 heap's size (`heapTotal`) and of memory outside it (`external`: buffers, zlib), sampled. */
  heapPeak: number;
  externalPeak: number;
  /** After the take and two forced full collections: V8 heap in use and memory outside it. */
  liveHeap: number;
  liveExternal: number;
  hwm: number;
}

function runChild(args: object): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, '--expose-gc', process.argv[1]!, '--take-child'],
      {
        env: { ...env, TIDEMARK_BENCH_CHILD: JSON.stringify(args) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`snapshot child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildReport);
    });
  });
}

interface Row {
  figure: string;
  value: string;
  limit: string;
  ratio: string;
  target: string;
  met: string;
}

async function main(): Promise<void> {
  const endpoints = resolveEndpoints();
  const load0 = os.loadavg();
  const client = await new MongoClient(endpoints.backup.uri).connect();
  const registry = new MongoHeadRegistry(client, META_DB);
  await registry.init();
  const stores = new Stores(client, endpoints);
  const heads: BenchHead[] = [];
  const newHead = async (tag: string) => {
    const h = new BenchHead(client, registry, `sb${s}${tag}`);
    heads.push(h);
    await h.create();
    return h;
  };
  const rows: Row[] = [];
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    log(line);
  };
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const h of heads) await h.drop().catch((e: unknown) => log(`cleanup of ${h.jobId}: ${String(e)}`));
      const removed = await stores.cleanup().catch((e: unknown) => [`cleanup failed: ${String(e)}`]);
      await client.close();
      log(
        `cleaned up: ${heads.length} head(s) (${heads.map((h) => headDatabasePrefix(h.jobId, h.syncNo) + '*').join(', ')}), ${removed.join(', ')}`,
      );
    })());
  // Ctrl-C still removes what the run made.
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  let failure: unknown;
  try {
    out(
      `sizes: throughput ${THROUGHPUT_MB} MB per store (${STORES.join(', ')}); dedup ${DEDUP_MB} MB x ${SNAPSHOTS} snapshots, ` +
        `${CHANGE_PCT}% changed (${PATTERNS.join(', ')}), on ${DEDUP_STORE}, chunks of ${DEDUP_CHUNKING ? DEDUP_CHUNKING.avgSize / 1024 : DEFAULT_CHUNKING.avgSize / 1024} KiB average; memory ${MEMORY_MB} MB vs ${4 * MEMORY_MB} MB`,
    );
    out('fence: MongoApplyFence (real, uncontended: no oplog-applier runs)');

    // 1. Throughput per store, each against a scan of the same head just before it; verify, then grooming.
    let t0 = hr();
    const rate = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
    if (PHASES.has('throughput')) {
      const tp = await newHead('t');
      t0 = hr();
      await tp.growTo(THROUGHPUT_MB);
      out(
        `throughput head: ${tp.docs} documents, ${f(tp.bytes / MB, 1)} MB inserted in ${f(since(t0) / 1000, 1)} s`,
      );
      const cpu = await cpuRates(client, registry, tp);
      out(
        `in memory over ${f(cpu.bytes / MB, 1)} MB (${cpu.chunks} chunks): head source scan ${f(rate(cpu.bytes, cpu.headSourceMs))} MB/s, ` +
          `chunking ${f(rate(cpu.bytes, cpu.chunkMs))} MB/s, addressing (SHA-256) ${f(rate(cpu.bytes, cpu.addressMs))} MB/s, ` +
          `${ENCODING.codec} encoding ${f(rate(cpu.bytes, cpu.encodeMs))} MB/s (stored ${f((cpu.encoded / cpu.bytes) * 100, 0)}% of plain)`,
      );
      for (const kind of STORES) {
        const atOnce = await tp.rawScanAtOnce();
        const scan = await tp.rawScan();
        const store = await stores.open(kind, `tp_${kind}`);
        const first = await take(client, registry, tp, store);
        const logical = first.record.manifest.logicalBytes;
        const scanRate = rate(scan.bytes, scan.ms);
        const takeRate = rate(logical, first.ms);
        const c = first.clock;
        const sec = (x: number) => `${f(x / 1000, 1)} s`;
        out(
          `${kind}: snapshot ${f(logical / MB, 1)} MB in ${f(first.ms / 1000, 1)} s = ${f(takeRate)} MB/s; raw scan ${f(scanRate)} MB/s ` +
            `(${f(scan.ms / 1000, 1)} s); time spent in each part (they overlap, so they may sum past the take's): ` +
            `waiting for the head's cursor ${sec(c.headMs)}, head metadata (listing, catalog, position) ${sec(c.headMetaMs)}, ` +
            `block calls ${sec(c.blockMs)}, records+lock ${sec(c.recordLockMs)}, fence ${sec(c.fenceMs)}`,
        );
        out(`${kind}: raw scan ${scan.cpu}; snapshot ${first.cpu}`);
        const atOnceRate = rate(atOnce.bytes, atOnce.ms);
        out(
          `${kind}: the raw scan with both namespaces read at once: ${f(atOnceRate)} MB/s; the take (two namespaces ` +
            `at once) ÷ that: ${f(takeRate / atOnceRate, 3)}`,
        );
        const ratio = takeRate / scanRate;
        rows.push({
          figure: `throughput ${kind} (${f(logical / MB, 1)} MB)`,
          value: `${f(takeRate)} MB/s`,
          limit: `raw scan ${f(scanRate)} MB/s`,
          ratio: f(ratio, 3),
          target: '>= 0.8',
          met: ratio >= 0.8 ? 'yes' : 'NO',
        });
        t0 = hr();
        const report = await verifySnapshot(store, first.record);
        const verifyMs = since(t0);
        if (!report.ok) throw new Error(`verify of ${kind} snapshot failed`);
        const verifyRate = rate(report.bytesRead, verifyMs);
        out(
          `${kind}: verify ${report.blocksRead} blocks, ${f(report.bytesRead / MB, 1)} MB in ${f(verifyMs / 1000, 1)} s`,
        );
        rows.push({
          figure: `verify ${kind}`,
          value: `${f(verifyRate)} MB/s`,
          limit: `raw scan ${f(scanRate)} MB/s`,
          ratio: f(verifyRate / scanRate),
          target: '(figure)',
          met: '',
        });
        // A second snapshot after a change, the first deleted, then grooming.
        await tp.change(0, CHANGE_PCT, 'random');
        const second = await take(client, registry, tp, store);
        await store.deleteSnapshot(tp.jobId, first.record.manifest.snapshotId);
        t0 = hr();
        const g = await groom(store, { jobId: tp.jobId, owner: OWNER });
        const groomMs = since(t0);
        out(
          `${kind}: groom after 2 snapshots (${f(second.record.manifest.storedBytes / MB, 2)} MB new in the second): ` +
            `${g.blocksDeleted} of ${g.blocksListed} blocks deleted, ${f((g.bytesDeleted ?? 0) / MB, 2)} MB, in ${f(groomMs / 1000, 2)} s`,
        );
        rows.push({
          figure: `groom ${kind} (1 of 2 snapshots expired)`,
          value: `${f(groomMs / 1000, 2)} s`,
          limit: `${g.blocksDeleted}/${g.blocksListed} blocks deleted`,
          ratio: '',
          target: '(figure)',
          met: '',
        });
      }
    }

    // 2. Dedup on one store, per change pattern; then grooming after deleting all but the newest.
    for (const pattern of PHASES.has('dedup') ? PATTERNS : []) {
      const dd = await newHead(pattern === 'random' ? 'r' : 'c');
      t0 = hr();
      await dd.growTo(DEDUP_MB);
      out(
        `dedup head (${pattern}): ${dd.docs} documents, ${f(dd.bytes / MB, 1)} MB inserted in ${f(since(t0) / 1000, 1)} s`,
      );
      const store = await stores.open(DEDUP_STORE, `dd_${pattern}`);
      const taken: TakeResult[] = [];
      for (let n = 0; n < SNAPSHOTS; n++) {
        let changed = 0;
        let changeMs = 0;
        if (n > 0) {
          t0 = hr();
          changed = await dd.change(n, CHANGE_PCT, pattern);
          changeMs = since(t0);
        }
        const r = await take(client, registry, dd, store, DEDUP_CHUNKING);
        taken.push(r);
        const m = r.record.manifest;
        out(
          `dedup ${pattern} #${n + 1}: ${changed} documents changed (${f(changeMs / 1000, 1)} s); ${f(m.logicalBytes / MB, 1)} MB ` +
            `in ${f(r.ms / 1000, 1)} s (${f(rate(m.logicalBytes, r.ms))} MB/s), ${f(m.storedBytes / MB, 3)} MB new, ` +
            `${m.namespaces.reduce((a, ns) => a + ns.chunks.length, 0)} chunks`,
        );
      }
      const firstStored = taken[0]!.record.manifest.storedBytes;
      const total = taken.reduce((a, r) => a + r.record.manifest.storedBytes, 0);
      const ratio = total / firstStored;
      rows.push({
        figure: `dedup ${DEDUP_STORE} ${pattern} (${f(dd.bytes / MB, 1)} MB, ${SNAPSHOTS} snaps, ${CHANGE_PCT}%)`,
        value: `${f(total / MB, 2)} MB stored`,
        limit: `first ${f(firstStored / MB, 2)} MB`,
        ratio: f(ratio, 3),
        target: '<= 1.3',
        met: ratio <= 1.3 ? 'yes' : 'NO',
      });
      for (const r of taken.slice(0, -1)) await store.deleteSnapshot(dd.jobId, r.record.manifest.snapshotId);
      t0 = hr();
      const g = await groom(store, { jobId: dd.jobId, owner: OWNER });
      const groomMs = since(t0);
      out(
        `dedup ${pattern}: groom after expiring ${SNAPSHOTS - 1} of ${SNAPSHOTS}: ${g.blocksDeleted} of ${g.blocksListed} blocks ` +
          `deleted (${f((g.bytesDeleted ?? 0) / MB, 2)} MB) in ${f(groomMs / 1000, 2)} s`,
      );
      rows.push({
        figure: `groom ${DEDUP_STORE} ${pattern} (${SNAPSHOTS - 1} of ${SNAPSHOTS} expired)`,
        value: `${f(groomMs / 1000, 2)} s`,
        limit: `${g.blocksDeleted}/${g.blocksListed} blocks deleted`,
        ratio: '',
        target: '(figure)',
        met: '',
      });
      const last = taken[taken.length - 1]!.record;
      t0 = hr();
      const report = await verifySnapshot(store, last);
      const verifyMs = since(t0);
      if (!report.ok) throw new Error('verify after grooming failed');
      out(
        `dedup ${pattern}: newest snapshot verifies after grooming: ${f(rate(report.bytesRead, verifyMs))} MB/s`,
      );
      await dd.drop();
    }

    // 4. Peak memory of a process that only takes a snapshot, at 1x and 4x (and 16x: MEMORY_SIXTEEN).
    if (PHASES.has('memory')) {
      const mem = await newHead('m');
      const memRuns: { mb: number; r: ChildReport }[] = [];
      for (const mb of [MEMORY_MB, 4 * MEMORY_MB, ...(MEMORY_SIXTEEN ? [16 * MEMORY_MB] : [])]) {
        await mem.growTo(mb);
        const r = await runChild({
          uri: endpoints.backup.uri,
          metaDb: META_DB,
          jobId: mem.jobId,
          syncId: mem.syncId,
          root: path.join(stores.tmp, `mem_${mb}`),
        });
        if (r.state !== 'complete') throw new Error(`memory snapshot ${r.state}`);
        memRuns.push({ mb, r });
        out(
          `memory at ${f(r.logicalBytes / MB, 1)} MB: VmHWM ${f(r.hwm / 2 ** 20, 1)} MiB, sampled RSS peak ${f(r.rssPeak / 2 ** 20, 1)} MiB ` +
            `(RSS before the take ${f(r.rssBefore / 2 ** 20, 1)} MiB; peaks of V8 heap ${f(r.heapPeak / 2 ** 20, 1)} MiB, ` +
            `external ${f(r.externalPeak / 2 ** 20, 1)} MiB; live after a full collection: heap ${f(r.liveHeap / 2 ** 20, 1)} MiB, ` +
            `external ${f(r.liveExternal / 2 ** 20, 1)} MiB), take ${f(r.ms / 1000, 1)} s`,
        );
      }
      const [m1, m4] = [memRuns[0]!.r, memRuns[1]!.r];
      rows.push({
        figure: `peak memory (VmHWM) at 4x (${f(m4.logicalBytes / MB, 1)} MB)`,
        value: `${f(m4.hwm / 2 ** 20, 1)} MiB`,
        limit: `1x (${f(m1.logicalBytes / MB, 1)} MB): ${f(m1.hwm / 2 ** 20, 1)} MiB`,
        ratio: f(m4.hwm / m1.hwm, 3),
        target: '<= 1.2',
        met: m4.hwm / m1.hwm <= 1.2 ? 'yes' : 'NO',
      });
      const m16 = memRuns[2]?.r;
      if (m16 !== undefined) {
        rows.push({
          figure: `peak memory (VmHWM) at 16x (${f(m16.logicalBytes / MB, 1)} MB)`,
          value: `${f(m16.hwm / 2 ** 20, 1)} MiB`,
          limit: `4x (${f(m4.logicalBytes / MB, 1)} MB): ${f(m4.hwm / 2 ** 20, 1)} MiB`,
          ratio: f(m16.hwm / m4.hwm, 3),
          target: '<= 1.2',
          met: m16.hwm / m4.hwm <= 1.2 ? 'yes' : 'NO',
        });
      }
      const live = (r: ChildReport) => r.liveHeap + r.liveExternal;
      const last = m16 ?? m4;
      rows.push({
        figure: `live heap + external after the take and a full collection, ${m16 ? '16x' : '4x'} vs 1x`,
        value: `${f(live(last) / 2 ** 20, 1)} MiB`,
        limit: `${f(live(m1) / 2 ** 20, 1)} MiB`,
        ratio: f(live(last) / live(m1), 3),
        target: '(figure)',
        met: '',
      });
      const growth = (r: ChildReport) => r.rssPeak - r.rssBefore;
      rows.push({
        figure: 'RSS growth during the take, 4x vs 1x',
        value: `${f(growth(m4) / 2 ** 20, 1)} MiB`,
        limit: `${f(growth(m1) / 2 ** 20, 1)} MiB`,
        ratio: f(growth(m4) / growth(m1)),
        target: '(figure)',
        met: '',
      });
    }
  } catch (err) {
    failure = err;
  } finally {
    await cleanup();
  }
  if (failure !== undefined) throw failure;

  const load1 = os.loadavg();
  const cols: (keyof Row)[] = ['figure', 'value', 'limit', 'ratio', 'target', 'met'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: Record<string, string>) => cols.map((c, k) => r[c]!.padEnd(widths[k]!)).join('  ');
  console.log('\nTidemark snapshot benchmark');
  for (const line of lines) console.log(line);
  console.log('');
  console.log(fmt(Object.fromEntries(cols.map((c) => [c, c]))));
  for (const r of rows) console.log(fmt(r as unknown as Record<string, string>));
  console.log(
    `\nload average (1/5/15 min): at start ${load0.map((x) => f(x)).join(' ')}, at end ${load1.map((x) => f(x)).join(' ')}; ` +
      `${os.cpus().length} CPUs`,
  );
}

if (process.argv.includes('--take-child')) {
  child().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

function codecFromEnv(): BlockCodec {
  const codec = env['TIDEMARK_BENCH_CODEC'] ?? DEFAULT_BLOCK_CODEC;
  if (!(SUPPORTED_CODECS as readonly string[]).includes(codec))
    throw new RangeError(`TIDEMARK_BENCH_CODEC: ${codec} is not one of ${SUPPORTED_CODECS.join(', ')}`);
  return codec as BlockCodec;
}
