import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeBlock, type EncryptionKey } from './block-codec';
import type { HeadSource } from './head-source';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import type { SnapshotState } from './manifest';
import { manifestChecksumProblems } from './manifest-codec';
import { SnapshotUnavailableError } from './snapshot-errors';
import type { SnapshotRecord } from './snapshot-store';
import { bsonDoc, bsonDocs, sha256 } from './spec-support';
import { SnapshotTaker, type SnapshotProgress, type TakeSnapshotRequest } from './take-snapshot';
import { verifySnapshot } from './verify-snapshot';

const JOB = 'job-1';
const SYNC = 'job-1-s1';
const SMALL = { minSize: 1024, avgSize: 4096, maxSize: 16384 };

/** A store that remembers the states of every record written, in order. */
class RecordingStore extends MemorySnapshotStore {
  readonly written: Array<[string, SnapshotState]> = [];
  override async putSnapshot(record: SnapshotRecord): Promise<void> {
    this.written.push([record.manifest.snapshotId, record.state]);
    await super.putSnapshot(record);
  }
}

/** Every `open <namespace>` of `events` has its `close <namespace>`. */
function assertEveryOpenedClosed(events: readonly string[]): void {
  assert.deepEqual(
    events.filter((e) => e.startsWith('open')).sort(),
    events
      .filter((e) => e.startsWith('close'))
      .map((e) => e.replace('close', 'open'))
      .sort(),
  );
}

function setup() {
  let now = Date.parse('2026-12-03T12:00:00.000Z');
  const clock = () => now;
  const head = new MemoryHeadSource();
  const fence = new MemoryApplyFence(clock);
  const store = new RecordingStore(clock);
  const orders = bsonDocs(400, 300, 'orders');
  const users = bsonDocs(50, 120, 'users');
  head.setNamespace(JOB, SYNC, 'app.users', users, { capped: false });
  head.setNamespace(JOB, SYNC, 'app.orders', orders, {}, [
    { v: 2, key: { _id: 1 }, name: '_id_' },
    { v: 2, key: { z: 1, a: -1 }, name: 'z_1_a_-1' },
  ]);
  head.setNamespace(JOB, SYNC, 'app.empty', []);
  head.setApplied(JOB, SYNC, { t: 2 ** 31 + 100, i: 4 }, new Date('2026-12-03T11:59:00.000Z'));
  const taker = new SnapshotTaker({ head, fence, store, clock });
  const request = (snapshotId: string, extra: Partial<TakeSnapshotRequest> = {}): TakeSnapshotRequest => ({
    jobId: JOB,
    syncId: SYNC,
    snapshotId,
    owner: 'snapshotter-a',
    encoding: { codec: 'gzip' },
    chunking: SMALL,
    ...extra,
  });
  return {
    head,
    fence,
    store,
    taker,
    request,
    orders,
    users,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SnapshotTaker', () => {
  it('copies the head at its applied position into blocks and a sealed manifest', async () => {
    const { taker, store, fence, request, orders, users } = setup();
    const progress: SnapshotProgress[] = [];
    const record = await taker.take(request('s1', { onProgress: (p) => progress.push(p) }));
    assert.equal(record.state, 'complete');
    const m = record.manifest;
    assert.deepEqual(m.opTime, { t: 2 ** 31 + 100, i: 4 });
    assert.deepEqual(m.opWallTime, new Date('2026-12-03T11:59:00.000Z'));
    assert.deepEqual(
      m.namespaces.map((ns) => [ns.namespace, ns.documentCount]),
      [
        ['app.empty', 0],
        ['app.orders', 400],
        ['app.users', 50],
      ],
    );
    const ordersNs = m.namespaces[1];
    assert.equal(ordersNs?.contentHash, sha256(orders));
    assert.equal(m.namespaces[2]?.contentHash, sha256(users));
    assert.equal(m.namespaces[0]?.contentHash, sha256([]));
    assert.equal(ordersNs?.logicalBytes, Buffer.concat(orders).length);
    assert.deepEqual(Object.keys(ordersNs?.indexes[1]?.['key'] as object), ['z', 'a']);
    assert.deepEqual(m.namespaces[2]?.options, { capped: false });
    assert.deepEqual(m.chunking, { algorithm: 'fastcdc-2020', ...SMALL, normalization: 1 });
    assert.ok((ordersNs?.chunks.length ?? 0) > 10);
    assert.deepEqual(manifestChecksumProblems(m), []);
    assert.ok(m.completedAt !== undefined && m.completedAt >= m.takenAt);
    // Every chunk is a block in the store that decodes to its bytes; the chunks are the namespace's bytes.
    const plain: Uint8Array[] = [];
    for (const chunk of ordersNs?.chunks ?? []) {
      const bytes = await store.getBlock(JOB, chunk.address);
      assert.equal(bytes.length, chunk.storedLength);
      plain.push(await decodeBlock(bytes, chunk.address));
    }
    assert.equal(sha256(plain), sha256(orders));
    assert.equal(m.storedBytes, store.blockStats(JOB).bytes);
    assert.equal(m.referencedBytes, m.storedBytes);
    // Written in-progress first, then complete; lock and fence released.
    assert.deepEqual(store.written, [
      ['s1', 'in-progress'],
      ['s1', 'complete'],
    ]);
    assert.deepEqual(await store.getSnapshot(JOB, 's1'), record);
    assert.equal(store.lockHolder(JOB), undefined);
    assert.equal(fence.tryApply(JOB), true);
    const last = progress.at(-1);
    assert.deepEqual(
      [last?.namespacesDone, last?.namespacesTotal, last?.documents, last?.logicalBytes],
      [3, 3, 450, m.logicalBytes],
    );
    // Reported after every group of chunks (32 by default) and every namespace.
    assert.ok(progress.length >= 4, `${progress.length} progress reports`);
  });

  it('takes documents in the batches a head answers with (any sizes, empty ones too) as it takes them one by one', async () => {
    const one = setup();
    const oneByOne = await one.taker.take(one.request('s1'));
    const batched = setup();
    const documents = batched.head.documents.bind(batched.head);
    const sizes: number[] = [];
    // Batches of 0, 1, 2, ... 12 documents, over and over.
    (batched.head as HeadSource).documentBatches = async function* (jobId, syncId, namespace) {
      let batch: Uint8Array[] = [];
      for await (const doc of documents(jobId, syncId, namespace)) {
        batch.push(doc);
        if (batch.length > sizes.length % 13) {
          sizes.push(batch.length);
          yield batch;
          batch = [];
          if (sizes.length % 13 === 0) yield [];
        }
      }
      if (batch.length > 0) yield batch;
    };
    batched.head.documents = () => {
      throw new Error('documents() read although documentBatches() is there');
    };
    const record = await batched.taker.take(batched.request('s1'));
    assert.ok(sizes.length > 40, `${sizes.length} batches`);
    const strip = (r: SnapshotRecord) =>
      r.manifest.namespaces.map((ns) => ({ ...ns, chunks: ns.chunks.map((c) => c.address) }));
    assert.deepEqual(strip(record), strip(oneByOne));
    assert.equal(record.manifest.logicalBytes, oneByOne.manifest.logicalBytes);
  });

  it('holds the apply fence for the whole copy', async () => {
    const { taker, fence, head, request } = setup();
    const seen: boolean[] = [];
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      for await (const doc of documents(jobId, syncId, namespace)) {
        seen.push(fence.tryApply(JOB));
        yield doc;
      }
    };
    await taker.take(request('s1'));
    assert.equal(seen.length, 450);
    assert.ok(
      seen.every((allowed) => !allowed),
      'the applier was never allowed to apply during the copy',
    );
    assert.equal(fence.tryApply(JOB), true);
  });

  it('stores unchanged data once: a second snapshot after a small change writes few new blocks', async () => {
    const { taker, store, head, request, orders } = setup();
    const first = await taker.take(request('s1'));
    const changed = [...orders];
    changed[200] = bsonDocs(1, 300, 'changed', 200)[0] as Uint8Array;
    head.setNamespace(JOB, SYNC, 'app.orders', changed);
    head.setApplied(JOB, SYNC, { t: 2 ** 31 + 101, i: 0 });
    const blocksBefore = store.blockStats(JOB).blocks;
    const second = await taker.take(request('s2'));
    assert.equal(second.state, 'complete');
    const newBlocks = store.blockStats(JOB).blocks - blocksBefore;
    assert.ok(newBlocks >= 1 && newBlocks <= 3, `${newBlocks} new blocks`);
    assert.ok(second.manifest.storedBytes < first.manifest.storedBytes / 5);
    const sameChunks = second.manifest.namespaces[1]?.chunks.filter((c) =>
      first.manifest.namespaces[1]?.chunks.some((d) => d.address === c.address),
    );
    assert.ok((sameChunks?.length ?? 0) >= (first.manifest.namespaces[1]?.chunks.length ?? 0) - 3);
    assert.ok(Math.abs(second.manifest.referencedBytes - first.manifest.referencedBytes) < 2000);
  });

  it('encrypts blocks under the key and records only its id', async () => {
    const { taker, store, request } = setup();
    const key: EncryptionKey = { keyId: 'key-7', key: randomBytes(32) };
    const record = await taker.take(request('s1', { encoding: { codec: 'gzip', key } }));
    assert.deepEqual(record.manifest.encryption, { algorithm: 'aes-256-gcm', keyId: 'key-7' });
    const chunk = record.manifest.namespaces[1]?.chunks[0];
    assert.ok(chunk !== undefined);
    const bytes = await store.getBlock(JOB, chunk.address);
    assert.equal(bytes[6], 1);
    assert.equal((await decodeBlock(bytes, chunk.address, key)).length, chunk.length);
  });

  it('refuses to start when another holder has the lock or the fence is not granted, writing no record', async () => {
    const { taker, store, fence, request } = setup();
    await store.acquireLock(JOB, 'someone-else', 60_000);
    await assert.rejects(taker.take(request('s1')), (err: unknown) => {
      assert.ok(err instanceof SnapshotUnavailableError);
      assert.equal(err.retriable, true);
      assert.match(err.message, /snapshot lock/);
      return true;
    });
    await store.releaseLock(JOB, 'someone-else');
    await fence.hold(JOB, 'someone-else', 60_000, 0);
    await assert.rejects(taker.take(request('s1')), /apply fence was not granted/);
    assert.equal(store.lockHolder(JOB), undefined, 'the lock was released');
    assert.deepEqual(store.written, []);
  });

  it('refuses a head without an applied position, releasing lock and fence', async () => {
    const { taker, store, fence, request } = setup();
    const empty = new MemoryHeadSource();
    const other = new SnapshotTaker({ head: empty, fence, store });
    await assert.rejects(other.take(request('s1')), /no applied position/);
    assert.equal(store.lockHolder(JOB), undefined);
    assert.equal(fence.tryApply(JOB), true);
    assert.ok(taker);
  });

  it('renews lock and fence as time passes', async () => {
    const { taker, head, store, request, advance } = setup();
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      for await (const doc of documents(jobId, syncId, namespace)) {
        advance(1_000); // 450 documents: 7.5 minutes, against a 60 s lease renewed every 20 s
        yield doc;
      }
    };
    // Time passes as documents are read: no read-ahead, so it passes as the taker consumes them.
    const record = await taker.take(request('s1', { pipeline: { readAheadBytes: 1 } }));
    assert.equal(record.state, 'complete', record.reason);
    assert.equal(store.lockHolder(JOB), undefined);
  });

  it('renews lock and fence one renewal at a time while two namespaces are copied at once', async () => {
    const { taker, head, store, request, advance } = setup();
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      for await (const doc of documents(jobId, syncId, namespace)) {
        advance(1_000);
        yield doc;
      }
    };
    let inFlight = 0;
    let most = 0;
    let renewals = 0;
    const renew = store.renewLock.bind(store);
    store.renewLock = async (jobId, owner, ttlMs) => {
      renewals++;
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return await renew(jobId, owner, ttlMs);
      } finally {
        inFlight--;
      }
    };
    const record = await taker.take(request('s1', { pipeline: { readAheadBytes: 1 } }));
    assert.equal(record.state, 'complete', record.reason);
    assert.ok(renewals >= 5, `${renewals} renewals`);
    assert.equal(most, 1, 'no two renewals ran at once');
  });

  it('gives up with a failed record when the lock is lost', async () => {
    const { taker, head, store, fence, request, advance } = setup();
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      for await (const doc of documents(jobId, syncId, namespace)) {
        advance(70_000); // longer than the lease: it expires before the next renewal
        yield doc;
      }
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'failed');
    assert.match(record.reason ?? '', /snapshot lock of snapshotter-a expired/);
    assert.deepEqual((await store.getSnapshot(JOB, 's1'))?.state, 'failed');
    assert.deepEqual(store.written.at(-1), ['s1', 'failed']);
    assert.equal(fence.tryApply(JOB), true);
  });

  it('turns a complete record written after the lock ran out into a failed one', async () => {
    const { taker, store, request, advance } = setup();
    const putSnapshot = store.putSnapshot.bind(store);
    store.putSnapshot = async (record) => {
      if (record.state === 'complete') advance(61_000); // a very slow write
      await putSnapshot(record);
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'failed');
    assert.match(record.reason ?? '', /outlasted the snapshot lock/);
    assert.equal((await store.getSnapshot(JOB, 's1'))?.state, 'failed');
  });

  it('gives up with a failed record when the fence is lost', async () => {
    const { taker, head, fence, request, advance } = setup();
    const documents = head.documents.bind(head);
    let n = 0;
    head.documents = async function* (jobId, syncId, namespace) {
      for await (const doc of documents(jobId, syncId, namespace)) {
        if (++n === 100) fence.revoke(JOB);
        advance(500);
        yield doc;
      }
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'failed');
    assert.match(record.reason ?? '', /apply fence of snapshotter-a was lost/);
  });

  it('gives up when the head moved although fenced', async () => {
    const { taker, head, request } = setup();
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      head.setApplied(JOB, SYNC, { t: 2 ** 31 + 200, i: 0 });
      yield* documents(jobId, syncId, namespace);
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'failed');
    assert.match(record.reason ?? '', /head moved from 2147483748:4 to 2147483848:0/);
  });

  it('records failed and rethrows when reading the head fails', async () => {
    const { taker, head, store, fence, request } = setup();
    head.documents = async function* () {
      yield bsonDocs(1, 10)[0] as Uint8Array;
      throw new Error('cursor killed');
    };
    await assert.rejects(taker.take(request('s1')), /cursor killed/);
    const record = await store.getSnapshot(JOB, 's1');
    assert.equal(record?.state, 'failed');
    assert.match(record?.reason ?? '', /cursor killed/);
    assert.equal(store.lockHolder(JOB), undefined);
    assert.equal(fence.tryApply(JOB), true);
  });

  it('refuses a head item that is not one whole BSON document', async () => {
    const { taker, head, request } = setup();
    head.setNamespace(JOB, SYNC, 'app.bad', [Buffer.from([9, 0, 0, 0, 0])]);
    await assert.rejects(taker.take(request('s1')), /not one whole BSON document/);
  });

  it('reads the head only as far ahead as its read-ahead and block-write window allow', async () => {
    const head = new MemoryHeadSource();
    const docSize = bsonDocs(1, 300)[0]?.length ?? 0;
    let yielded = 0;
    head.setApplied(JOB, SYNC, { t: 1, i: 1 });
    head.setNamespace(JOB, SYNC, 'app.big', []);
    head.documents = async function* () {
      for (const doc of bsonDocs(3000, 300, 'big')) {
        yielded += doc.length;
        yield doc;
      }
    };
    // What the head had yielded when each chunk's block was written (into an empty store every chunk is written,
    // in order, a group at a time).
    const yieldedAtWrite: number[] = [];
    const readAheadBytes = 64 * docSize;
    for (const blockWriteWindow of [1, 3]) {
      const store = new MemorySnapshotStore();
      const putBlocks = store.putBlocks.bind(store);
      store.putBlocks = async (jobId, blocks) => {
        for (const _ of blocks) yieldedAtWrite.push(yielded);
        return putBlocks(jobId, blocks);
      };
      const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
      yielded = 0;
      yieldedAtWrite.length = 0;
      const record = await taker.take({
        ...setup().request(`s${blockWriteWindow}`),
        encoding: { codec: 'none' },
        pipeline: { readAheadBytes, blockWriteWindow },
      });
      const chunks = record.manifest.namespaces[0]?.chunks ?? [];
      assert.ok(chunks.length > 50);
      assert.equal(yieldedAtWrite.length, chunks.length);
      let end = 0;
      const ahead = chunks.map((chunk, k) => {
        end += chunk.length;
        return (yieldedAtWrite[k] as number) - end;
      });
      // Beyond the chunk being written: the rest of its group and the group in flight before it (2 x window - 1
      // chunks), the chunk being cut (maxSize), the read-ahead and the documents being handed over (one in the
      // queue's slot, one being pushed, one being read).
      const bound = 2 * blockWriteWindow * SMALL.maxSize + readAheadBytes + 3 * docSize;
      assert.ok(
        Math.max(...ahead) <= bound,
        `window ${blockWriteWindow}: read ahead ${Math.max(...ahead)} > ${bound}`,
      );
      // The read-ahead is used: the head runs ahead of the chunk being stored by more than one chunk's worth.
      assert.ok(Math.max(...ahead) > SMALL.maxSize + docSize, 'the head was read ahead');
    }
  });

  it('asks the store nothing when it held no block of the job, and looks blocks up when it holds some', async () => {
    const { taker, store, request } = setup();
    let lookups = 0;
    const hasBlocks = store.hasBlocks.bind(store);
    store.hasBlocks = async (jobId, addresses) => {
      lookups += addresses.length;
      return hasBlocks(jobId, addresses);
    };
    const first = await taker.take(request('s1'));
    assert.equal(first.state, 'complete');
    assert.equal(lookups, 0, 'a first snapshot into an empty store looks nothing up');
    assert.ok(first.manifest.storedBytes > 0);
    assert.equal((await verifySnapshot(store, first)).ok, true);
    // Its record gone (as after a delete, before grooming), its blocks are orphans: a new take must find them.
    await store.deleteSnapshot(JOB, 's1');
    const second = await taker.take(request('s2'));
    assert.equal(second.state, 'complete');
    assert.ok(lookups > 0, 'blocks in the store are looked up');
    assert.equal(second.manifest.storedBytes, 0, 'the orphan blocks were reused, none written again');
    assert.equal((await verifySnapshot(store, second)).ok, true);
  });

  it("one namespace at a time: asks for the next one's first document while it copies one, and closes it when the take fails", async () => {
    const { taker, head, request: base } = setup();
    const request = (id: string) => base(id, { pipeline: { namespacesInParallel: 1 } });
    const events: string[] = [];
    const documents = head.documents.bind(head);
    head.documents = (jobId, syncId, namespace) => {
      const inner = documents(jobId, syncId, namespace);
      return (async function* () {
        events.push(`open ${namespace}`);
        try {
          for await (const doc of inner) {
            if (namespace === 'app.users' && events.includes('open app.orders')) {
              events.push('users copied with orders open');
            }
            yield doc;
          }
        } finally {
          events.push(`close ${namespace}`);
        }
      })();
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'complete');
    // Sorted: app.empty, app.orders, app.users. app.orders is asked for while app.empty is copied, app.users while
    // app.orders is.
    assert.deepEqual(
      events.filter((e) => e.startsWith('open')),
      ['open app.empty', 'open app.orders', 'open app.users'],
    );
    assert.ok(events.indexOf('open app.users') < events.indexOf('close app.orders'));
    // A take that fails while the next namespace is open closes it.
    events.length = 0;
    head.documents = (jobId, syncId, namespace) =>
      (async function* () {
        events.push(`open ${namespace}`);
        try {
          if (namespace === 'app.orders') throw new Error('cursor killed');
          yield* documents(jobId, syncId, namespace);
        } finally {
          events.push(`close ${namespace}`);
        }
      })();
    await assert.rejects(taker.take(request('s2')), /cursor killed/);
    assert.ok(events.includes('open app.users'), 'app.users was asked for while app.orders was copied');
    assertEveryOpenedClosed(events);
  });

  it('copies two namespaces at once, the third asked for ahead; a failure stops the other copy and closes every cursor', async () => {
    const { taker, head, request } = setup();
    const plain = await new SnapshotTaker({
      head,
      fence: new MemoryApplyFence(),
      store: new MemorySnapshotStore(),
    }).take(request('plain', { pipeline: { namespacesInParallel: 1 } }));
    const events: string[] = [];
    const reading = new Set<string>();
    let most = 0;
    const documents = head.documents.bind(head);
    head.documents = (jobId, syncId, namespace) =>
      (async function* () {
        events.push(`open ${namespace}`);
        try {
          for await (const doc of documents(jobId, syncId, namespace)) {
            reading.add(namespace);
            most = Math.max(most, reading.size);
            await new Promise((resolve) => setImmediate(resolve));
            yield doc;
          }
        } finally {
          reading.delete(namespace);
          events.push(`close ${namespace}`);
        }
      })();
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'complete', record.reason);
    assert.equal(most, 2, 'two namespaces were read at once');
    // app.users, the third, is asked for while the first two are copied.
    assert.ok(events.indexOf('open app.users') < events.indexOf('close app.orders'));
    const strip = (r: SnapshotRecord) =>
      r.manifest.namespaces.map(({ namespace, documentCount, contentHash, chunks }) => ({
        namespace,
        documentCount,
        contentHash,
        chunks: chunks.map((c) => c.address),
      }));
    assert.deepEqual(strip(record), strip(plain));
    // One copy fails: the other stops at its next batch, and every cursor opened is closed.
    events.length = 0;
    let usersDocs = 0;
    let ordersDocs = 0;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    head.documents = (jobId, syncId, namespace) =>
      (async function* () {
        events.push(`open ${namespace}`);
        try {
          for await (const doc of documents(jobId, syncId, namespace)) {
            if (namespace === 'app.orders' && ++ordersDocs > 30) throw new Error('cursor killed');
            // app.users is read slower than app.orders: it is half-way when app.orders fails.
            if (namespace === 'app.users') for (let k = 0; k < 3; k++) await tick();
            if (namespace === 'app.users') usersDocs++;
            await tick();
            yield doc;
          }
        } finally {
          events.push(`close ${namespace}`);
        }
      })();
    // A read-ahead of one batch, so what is read is about what is copied.
    await assert.rejects(taker.take(request('s2', { pipeline: { readAheadBytes: 1 } })), /cursor killed/);
    assert.ok(usersDocs < 50, `app.users stopped early (${usersDocs} of 50 documents read)`);
    assertEveryOpenedClosed(events);
  });

  it('copies the catalog namespaces while the listing runs; the listing decides what the manifest holds', async () => {
    const { taker, head, store, request } = setup();
    const plain = await new SnapshotTaker({
      head,
      fence: new MemoryApplyFence(),
      store: new MemorySnapshotStore(),
    }).take(request('plain'));
    // The catalog names a namespace the head no longer has and misses app.users (created by the oplog later).
    head.setCatalog(JOB, SYNC, ['app.orders', 'app.gone', 'app.empty']);
    const events: string[] = [];
    const list = head.listNamespaces.bind(head);
    let releaseListing = (): void => undefined;
    const listingHeld = new Promise<void>((resolve) => (releaseListing = resolve));
    head.listNamespaces = async (jobId, syncId) => {
      await listingHeld;
      events.push('listed');
      return list(jobId, syncId);
    };
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      events.push(`read ${namespace}`);
      if (namespace === 'app.orders') releaseListing();
      yield* documents(jobId, syncId, namespace);
    };
    const record = await taker.take(request('s1'));
    assert.equal(record.state, 'complete', record.reason);
    // The catalog's three (two at once, in any order), then the listing, then the one only the listing names.
    assert.deepEqual(events.slice(0, 3).sort(), ['read app.empty', 'read app.gone', 'read app.orders']);
    assert.deepEqual(events.slice(3), ['listed', 'read app.users']);
    const m = record.manifest;
    assert.deepEqual(
      m.namespaces.map((ns) => ns.namespace),
      ['app.empty', 'app.orders', 'app.users'],
    );
    // The same manifest content as a take that listed first (only ids, times and the new-bytes count differ).
    const strip = (x: typeof m) =>
      x.namespaces.map(({ namespace, documentCount, contentHash, chunks }) => ({
        namespace,
        documentCount,
        contentHash,
        chunks,
      }));
    assert.deepEqual(strip(m), strip(plain.manifest));
    assert.equal(m.logicalBytes, plain.manifest.logicalBytes);
    assert.equal(m.referencedBytes, plain.manifest.referencedBytes);
    assert.equal(m.storedBytes, plain.manifest.storedBytes);
    assert.equal(manifestChecksumProblems(m).length, 0);
    assert.ok(store);
  });

  it('refuses a snapshot when the catalog copied documents of a namespace the listing leaves out', async () => {
    const { taker, head, store, request } = setup();
    head.setCatalog(JOB, SYNC, ['app.orders']);
    const list = head.listNamespaces.bind(head);
    head.listNamespaces = async (jobId, syncId) =>
      (await list(jobId, syncId)).filter((info) => info.namespace !== 'app.orders');
    await assert.rejects(
      taker.take(request('s1')),
      /app\.orders has 400 documents but the head's listing leaves it out/,
    );
    assert.equal((await store.getSnapshot(JOB, 's1'))?.state, 'failed');
  });

  it('writes a block once when two chunks with its address are in flight together', async () => {
    const { head, store, request } = setup();
    // Constant text is cut at maxSize into identical chunks, one after the other: several in flight at once.
    head.setNamespace(JOB, SYNC, 'app.twins', [bsonDoc(1, 'a'.repeat(20_000))]);
    const puts: string[] = [];
    const put = store.putBlock.bind(store);
    store.putBlock = async (jobId, address, bytes) => {
      puts.push(address);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return put(jobId, address, bytes);
    };
    const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
    const record = await taker.take(
      request('s1', {
        chunking: { minSize: 64, avgSize: 256, maxSize: 1024 },
        pipeline: { blockWriteWindow: 8 },
      }),
    );
    assert.equal(record.state, 'complete', record.reason);
    assert.equal(new Set(puts).size, puts.length, 'no address was put twice');
    const twins = record.manifest.namespaces.find((ns) => ns.namespace === 'app.twins');
    const addresses = twins?.chunks.map((c) => c.address) ?? [];
    assert.ok(addresses.length > new Set(addresses).size, 'the namespace repeats chunks');
    let stored = 0;
    for (const a of new Set(record.manifest.namespaces.flatMap((ns) => ns.chunks.map((c) => c.address))))
      stored += (await store.getBlock(JOB, a)).length;
    assert.equal(record.manifest.storedBytes, stored, 'stored bytes count every block once');
  });

  it('a throwing progress listener does not break the snapshot', async () => {
    const { taker, request } = setup();
    const record = await taker.take(
      request('s1', {
        onProgress: () => {
          throw new Error('listener bug');
        },
      }),
    );
    assert.equal(record.state, 'complete');
  });
});
