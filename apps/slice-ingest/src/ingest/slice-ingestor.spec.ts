import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BSON, Timestamp } from 'bson';
// The ingest feature wired with the bus's codec, as slice-ingest wires it (so this spec lives with the app: a
// feature's own specs import no adapter).
import {
  busSliceCodec,
  defaultCodec,
  resolveTopics,
  sliceProducedFromMeta,
  type SliceProduced,
} from '@tidemark/bus';
import {
  isRetriable,
  TidemarkError,
  type OpTime,
  type SliceCodec,
  type SliceLimits,
  type SliceMeta,
} from '@tidemark/domain';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import { decodeCatalog, decodeSlicePayload } from '@tidemark/slices';
import {
  catalogSlice as testCatalogSlice,
  initialSlice as testInitialSlice,
  oplogSlice as testOplogSlice,
  type TestSlice,
} from '@tidemark/testing';
import {
  SliceIngestor,
  SliceStoreError,
  sliceRejectedAlert,
  type ClaimCheckPublisher,
  type SliceIngestorOptions,
  type SliceMessage,
  type SliceRecordCodec,
  type StoreErrorClassifier,
} from '@tidemark/ingest';
import type { SliceClaimCheck } from '@tidemark/slices';

const topics = resolveTopics({ prefix: 'unit', env: {} });
const INITIAL = topics.slicesInitial.name;
const OPLOG = topics.slicesOplog.name;
const JOB = 'job00001';
const SYNC = `${JOB}-s1`;
const avro = defaultCodec();

// ---- the ports, wired as the app wires them -------------------------------------------------------------

const busCodec: SliceRecordCodec<SliceProduced> = busSliceCodec(avro);

/** An in-memory claim-check publisher: keeps what it was asked to publish; can be told to fail. */
class MemoryClaimChecks implements ClaimCheckPublisher {
  readonly published: SliceClaimCheck[] = [];
  failNext: Error | undefined;
  async publishStored(claim: SliceClaimCheck): Promise<void> {
    const err = this.failNext;
    this.failNext = undefined;
    if (err !== undefined) throw err;
    this.published.push(claim);
  }
}

/** A MemoryOplogStore whose next `put` can be made to fail like a driver would. */
class FlakyStore extends MemoryOplogStore {
  failNext: Error | undefined;
  override async put(meta: SliceMeta, payload: Buffer): Promise<'stored' | 'duplicate'> {
    const err = this.failNext;
    this.failNext = undefined;
    if (err !== undefined) throw err;
    return super.put(meta, payload);
  }
}

/** Stands in for classifyMongoError: "connection reset" is retriable, anything else fatal. */
const classifyStoreError: StoreErrorClassifier = (err) =>
  /connection reset/.test(String(err))
    ? { retriable: true, reason: 'network error (connection reset)' }
    : { retriable: false, reason: `unknown error (${String(err)})` };

function setup(over: Partial<SliceIngestorOptions<SliceProduced>> = {}) {
  const store = new FlakyStore();
  const claimChecks = new MemoryClaimChecks();
  const ingestor = new SliceIngestor<SliceProduced>({
    codec: busCodec,
    payloadChecks: { decodePayload: decodeSlicePayload, decodeCatalog },
    oplogStore: store,
    classifyStoreError,
    claimChecks,
    topicKinds: { [INITIAL]: ['initial', 'catalog'], [OPLOG]: ['oplog'] },
    clock: () => new Date('2030-01-01T00:00:00Z'),
    ...over,
  });
  return { store, claimChecks, ingestor };
}

// ---- slices and messages -----------------------------------------------------------------------------

const docs = (n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(BSON.serialize({ _id: i, v: `doc ${i}` })));

const initialSlice = (sequence = 0, body: Buffer[] = docs(3), codec: SliceCodec = 'gzip') =>
  testInitialSlice(JOB, 'shop.orders', sequence, body, { codec });

function oplogSlice(prevTs: OpTime, lastTs: OpTime) {
  const entries = [
    { ts: new Timestamp({ t: prevTs.t, i: prevTs.i + 1 }), op: 'i', ns: 'shop.orders', o: { _id: 1 } },
    { ts: new Timestamp({ t: lastTs.t, i: lastTs.i }), op: 'd', ns: 'shop.orders', o: { _id: 1 } },
  ].map((e) => Buffer.from(BSON.serialize(e)));
  return testOplogSlice(JOB, prevTs, lastTs, entries, { codec: 'brotli', sequence: 0 });
}

/** The scan catalog of shop.orders, or a catalog slice holding `body` as it is. */
const catalogSlice = (body?: Buffer[]) =>
  testCatalogSlice(
    JOB,
    body ?? {
      origin: 'scan',
      startTs: { t: 100, i: 1 },
      endTs: { t: 200, i: 1 },
      namespaces: [{ ns: 'shop.orders', sliceCount: 1, docCount: 3 }],
    },
  );

let nextOffset = 0;

/** The Kafka message an agent would send for this slice (value, key), with overrides for broken variants. */
function messageOf(slice: TestSlice, over: Partial<SliceMessage> & { topic?: string } = {}): SliceMessage {
  const record = sliceProducedFromMeta(slice.meta, slice.payload, new Date('2030-01-01T00:00:00Z'));
  return {
    topic: slice.meta.kind === 'oplog' ? OPLOG : INITIAL,
    partition: 0,
    offset: String(nextOffset++),
    key: Buffer.from(busCodec.keyOf(slice.meta)),
    value: avro.encode('tidemark.slices.SliceProduced', record),
    headers: {},
    ...over,
  };
}

/** Encodes a record as is, bypassing the domain mapping (for metadata the agent would never produce). */
function rawMessageOf(record: SliceProduced, key: string, topic = INITIAL): SliceMessage {
  return {
    topic,
    partition: 0,
    offset: String(nextOffset++),
    key: Buffer.from(key),
    value: avro.encode('tidemark.slices.SliceProduced', record),
  };
}

async function assertNothingStored(store: MemoryOplogStore, claimChecks: MemoryClaimChecks): Promise<void> {
  for (const kind of ['initial', 'oplog', 'catalog'] as const)
    assert.deepEqual(await store.list(JOB, SYNC, kind), []);
  assert.deepEqual(claimChecks.published, []);
}

// ---- specs -------------------------------------------------------------------------------------------

describe('SliceIngestor: good slices', () => {
  it('stores an initial-sync slice and publishes its claim check', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = initialSlice();
    const outcome = await ingestor.ingest(messageOf(slice));
    assert.deepEqual(outcome, { kind: 'stored', meta: slice.meta });
    const stored = await store.get(slice.meta.sliceId);
    assert.ok(stored);
    assert.deepEqual(stored.meta, slice.meta);
    assert.ok(stored.payload.equals(slice.payload), 'payload stored byte for byte');
    assert.deepEqual(claimChecks.published, [
      {
        kind: 'initial',
        origin: 'scan',
        namespace: 'shop.orders',
        jobId: JOB,
        syncId: SYNC,
        sliceId: slice.meta.sliceId,
        sequence: 0,
        docCount: 3,
        compressedBytes: slice.meta.compressedBytes,
        storedAt: new Date('2030-01-01T00:00:00Z'),
      },
    ]);
  });

  it('stores an oplog slice; its claim check carries prevTs, firstTs and lastTs', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = oplogSlice({ t: 1_700_000_000, i: 4 }, { t: 1_700_000_005, i: 2 });
    assert.equal((await ingestor.ingest(messageOf(slice))).kind, 'stored');
    assert.deepEqual(await store.getMeta(slice.meta.sliceId), slice.meta);
    const [claim] = claimChecks.published;
    assert.ok(claim?.kind === 'oplog');
    assert.deepEqual(
      { prevTs: claim.prevTs, firstTs: claim.firstTs, lastTs: claim.lastTs },
      {
        prevTs: { t: 1_700_000_000, i: 4 },
        firstTs: { t: 1_700_000_000, i: 5 },
        lastTs: { t: 1_700_000_005, i: 2 },
      },
    );
  });

  it('stores a catalog slice whose documents parse as a catalog', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = catalogSlice();
    assert.equal((await ingestor.ingest(messageOf(slice))).kind, 'stored');
    assert.ok(await store.getMeta(slice.meta.sliceId));
    assert.deepEqual(
      claimChecks.published.map((c) => [c.kind, c.sliceId]),
      [['catalog', slice.meta.sliceId]],
    );
  });

  it('stores the same message once: the second delivery is a duplicate and publishes the claim check again', async () => {
    const { store, claimChecks, ingestor } = setup();
    const message = messageOf(initialSlice());
    assert.equal((await ingestor.ingest(message)).kind, 'stored');
    assert.equal((await ingestor.ingest(message)).kind, 'duplicate');
    assert.equal((await store.list(JOB, SYNC, 'initial')).length, 1);
    assert.equal(claimChecks.published.length, 2);
    assert.deepEqual(claimChecks.published[0], claimChecks.published[1]);
  });
});

describe('SliceIngestor: rejected messages store nothing and say why', () => {
  it('rejects a slice whose payload has a flipped byte (bad checksum)', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = initialSlice();
    const flipped = Buffer.from(slice.payload);
    flipped[flipped.length >> 1]! ^= 0x01;
    const outcome = await ingestor.ingest(messageOf({ meta: slice.meta, payload: flipped }));
    assert.equal(outcome.kind, 'rejected');
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'payload');
    assert.match(
      outcome.reason,
      /^bad slice payload: SliceChecksumError: .*checksum mismatch: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
    assert.equal(outcome.jobId, JOB);
    assert.equal(outcome.sliceId, slice.meta.sliceId);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a payload whose BSON framing is broken, even with a matching checksum', async () => {
    const { store, claimChecks, ingestor } = setup();
    const [a, b] = docs(2);
    const broken = Buffer.from(b!);
    broken.writeInt32LE(broken.length + 100, 0); // the second document claims to run past the end
    const outcome = await ingestor.ingest(messageOf(initialSlice(0, [a!, broken], 'none')));
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'payload');
    assert.match(outcome.reason, /bad BSON document length \d+ at byte \d+/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a payload that holds fewer documents than its metadata says', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = initialSlice();
    const outcome = await ingestor.ingest(
      messageOf({ meta: { ...slice.meta, docCount: 4 }, payload: slice.payload }),
    );
    assert.ok(outcome.kind === 'rejected');
    assert.match(outcome.reason, /payload holds 3 documents, metadata says 4/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a message whose key does not match the slice, or that has no key', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = initialSlice();
    const wrong = await ingestor.ingest(messageOf(slice, { key: Buffer.from(`${JOB}/shop.customers`) }));
    assert.ok(wrong.kind === 'rejected');
    assert.equal(wrong.stage, 'key');
    assert.equal(
      wrong.reason,
      `message key does not match the slice: key "${JOB}/shop.customers", expected "${JOB}/shop.orders"`,
    );
    const none = await ingestor.ingest(messageOf(slice, { key: null }));
    assert.ok(none.kind === 'rejected');
    assert.match(none.reason, /key is missing, expected/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a slice on the wrong topic', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = oplogSlice({ t: 10, i: 1 }, { t: 11, i: 1 });
    const outcome = await ingestor.ingest(messageOf(slice, { topic: INITIAL }));
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'topic');
    assert.match(
      outcome.reason,
      /slice kind "oplog" does not belong on unit\.tidemark\.slices\.initial, which carries initial and catalog slices/,
    );
    await assertNothingStored(store, claimChecks);
  });

  it('rejects an oversize slice by its metadata, and a payload larger than its metadata says', async () => {
    const limits: SliceLimits = { targetSliceBytes: 1024, maxSliceBytes: 2048, maxRawBytes: 1024 * 1024 };
    const { store, claimChecks, ingestor } = setup({ limits });
    const big = initialSlice(0, [Buffer.from(BSON.serialize({ _id: 1, pad: randomBytes(3000) }))], 'none');
    const oversize = await ingestor.ingest(messageOf(big));
    assert.ok(oversize.kind === 'rejected');
    assert.equal(oversize.stage, 'metadata');
    assert.match(oversize.reason, /compressedBytes \d+ exceeds the maximum slice size 2048/);
    const lying = await ingestor.ingest(
      messageOf({ meta: { ...big.meta, compressedBytes: 1000, rawBytes: 1000 }, payload: big.payload }),
    );
    assert.ok(lying.kind === 'rejected');
    assert.equal(lying.stage, 'payload');
    assert.match(lying.reason, /payload is \d+ bytes, metadata says 1000/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a message that is not Avro, naming the failure and the job from its key', async () => {
    const { store, claimChecks, ingestor } = setup();
    const garbage: SliceMessage = {
      topic: OPLOG,
      partition: 2,
      offset: '41',
      key: Buffer.from(JOB),
      value: Buffer.from('{"this":"is json, not avro"}'),
    };
    const outcome = await ingestor.ingest(garbage);
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'decode');
    assert.match(outcome.reason, /^undecodable message: SingleObjectDecodeError: .*bad-marker/);
    assert.match(outcome.reason, /unit\.tidemark\.slices\.oplog\/2@41/);
    assert.equal(outcome.jobId, JOB);
    assert.equal(outcome.sliceId, undefined);
    const tombstone = await ingestor.ingest({ ...garbage, value: null });
    assert.ok(tombstone.kind === 'rejected');
    assert.match(tombstone.reason, /no value \(tombstone\)/);
    const truncated = messageOf(initialSlice());
    const cut = await ingestor.ingest({
      ...truncated,
      value: truncated.value!.subarray(0, truncated.value!.length - 7),
    });
    assert.ok(cut.kind === 'rejected');
    assert.match(cut.reason, /bad-body/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects metadata the domain refuses (an oplog range that ends before it starts)', async () => {
    const { store, claimChecks, ingestor } = setup();
    const slice = oplogSlice({ t: 10, i: 1 }, { t: 11, i: 1 });
    const outcome = await ingestor.ingest(
      messageOf({ meta: { ...slice.meta, prevTs: { t: 12, i: 0 } }, payload: slice.payload }),
    );
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'metadata');
    assert.match(outcome.reason, /prevTs 12:0 must be before lastTs 11:1/);
    const record = sliceProducedFromMeta(slice.meta, slice.payload, new Date());
    const rangeless = await ingestor.ingest(rawMessageOf({ ...record, lastTs: null }, JOB, OPLOG));
    assert.ok(rangeless.kind === 'rejected');
    assert.equal(rangeless.stage, 'metadata');
    assert.match(rangeless.reason, /an oplog slice must carry prevTs and lastTs/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a catalog slice whose documents are not a catalog', async () => {
    const { store, claimChecks, ingestor } = setup();
    const outcome = await ingestor.ingest(messageOf(catalogSlice(docs(2))));
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'catalog');
    assert.match(outcome.reason, /catalog: the first document must be of type "sync"/);
    await assertNothingStored(store, claimChecks);
  });

  it('rejects a catalog slice of a format version this build does not read, naming the version', async () => {
    const { store, claimChecks, ingestor } = setup();
    const sync = { type: 'sync', v: 2, origin: 'scan', startTs: new Timestamp({ t: 100, i: 1 }) };
    const outcome = await ingestor.ingest(messageOf(catalogSlice([Buffer.from(BSON.serialize(sync))])));
    assert.ok(outcome.kind === 'rejected');
    assert.equal(outcome.stage, 'catalog');
    assert.match(
      outcome.reason,
      /UnknownFormatVersionError: catalog slice at slice .*: format version 2 is unknown/,
    );
    await assertNothingStored(store, claimChecks);
  });
});

describe('SliceIngestor: infrastructure failures are thrown, never rejected', () => {
  it('throws a retriable SliceStoreError when the store fails transiently; redelivery then stores it', async () => {
    const { store, claimChecks, ingestor } = setup();
    const message = messageOf(initialSlice());
    store.failNext = new Error('connection reset by peer');
    await assert.rejects(ingestor.ingest(message), (err: unknown) => {
      assert.ok(err instanceof SliceStoreError);
      assert.equal(isRetriable(err), true);
      assert.match(err.message, /storing slice .* failed \(retriable\): network error/);
      return true;
    });
    assert.deepEqual(claimChecks.published, []);
    assert.equal((await ingestor.ingest(message)).kind, 'stored');
  });

  it('throws a fatal SliceStoreError for an unclassified store failure', async () => {
    const { store, ingestor } = setup();
    store.failNext = new Error('something nobody expected');
    await assert.rejects(ingestor.ingest(messageOf(initialSlice())), (err: unknown) => {
      assert.ok(err instanceof SliceStoreError);
      assert.equal(isRetriable(err), false);
      return true;
    });
  });

  it('throws when the claim check cannot be published; the redelivery finds the slice stored and publishes it', async () => {
    const { store, claimChecks, ingestor } = setup();
    const message = messageOf(oplogSlice({ t: 10, i: 1 }, { t: 11, i: 1 }));
    claimChecks.failNext = new TidemarkError('broker unreachable', { retriable: true });
    await assert.rejects(ingestor.ingest(message), (err: unknown) => isRetriable(err));
    assert.equal((await store.list(JOB, SYNC, 'oplog')).length, 1);
    assert.equal((await ingestor.ingest(message)).kind, 'duplicate');
    assert.equal(claimChecks.published.length, 1);
  });

  it('throws for a topic it was not configured for, and refuses unusable limits', async () => {
    const { ingestor } = setup();
    assert.throws(
      () => ingestor.check(messageOf(initialSlice(), { topic: 'elsewhere' })),
      /not configured for topic elsewhere/,
    );
    assert.throws(
      () => setup({ limits: { targetSliceBytes: 10, maxSliceBytes: 5, maxRawBytes: 1 } }),
      /slice limits are unusable: maxSliceBytes must be an integer >= targetSliceBytes/,
    );
  });
});

describe('sliceRejectedAlert', () => {
  it('is critical, keyed by the message position, and carries where and why', async () => {
    const { ingestor } = setup();
    const slice = initialSlice();
    const flipped = Buffer.from(slice.payload);
    flipped[0]! ^= 0xff;
    const message = messageOf(
      { meta: slice.meta, payload: flipped },
      { partition: 3, offset: '9007199254740993' },
    );
    const outcome = await ingestor.ingest(message);
    assert.ok(outcome.kind === 'rejected');
    const at = new Date('2030-01-02T00:00:00Z');
    const alert = sliceRejectedAlert(message, outcome, at);
    assert.equal(alert.alertId, `SLICE_REJECTED:${INITIAL}:3:9007199254740993`);
    assert.deepEqual(
      sliceRejectedAlert(message, outcome, at),
      alert,
      'the same message raises the same alert',
    );
    assert.equal(alert.code, 'SLICE_REJECTED');
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.jobId, JOB);
    assert.deepEqual(alert.context, {
      topic: INITIAL,
      partition: '3',
      offset: '9007199254740993',
      stage: 'payload',
      reason: outcome.reason,
      sliceId: slice.meta.sliceId,
    });
    assert.match(alert.message, /checksum mismatch/);
  });
});
