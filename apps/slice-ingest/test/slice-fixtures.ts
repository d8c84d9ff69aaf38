/**
 * Slices as the agent produces them, for slice-ingest's integration test: documents as raw BSON, payloads from
 * `encodeSlicePayload`, records from `sliceProducedFromMeta`, keys from the topic declaration.
 */
import { randomBytes } from 'node:crypto';
import { BSON, Timestamp } from 'bson';
import { sliceProducedFromMeta, type SliceProduced } from '@tidemark/bus';
import type { CatalogSliceMeta, InitialSliceMeta, OplogSliceMeta, OpTime, SliceMeta } from '@tidemark/domain';
import { encodeCatalog, encodeSlicePayload } from '@tidemark/slices';

export interface TestSlice {
  readonly meta: SliceMeta;
  readonly payload: Buffer;
}

export function initialSlice(jobId: string, ns: string, sequence: number, count = 50): TestSlice {
  const syncId = `${jobId}-s1`;
  const docs = Array.from({ length: count }, (_, i) =>
    Buffer.from(BSON.serialize({ _id: sequence * 1000 + i, ns, body: 'x'.repeat(200 + i) })),
  );
  const enc = encodeSlicePayload(docs, 'gzip');
  const meta: InitialSliceMeta = {
    kind: 'initial',
    origin: 'scan',
    namespace: ns,
    jobId,
    syncId,
    sliceId: `${syncId}:i:${ns}:${sequence}`,
    sequence,
    docCount: enc.docCount,
    rawBytes: enc.rawBytes,
    compressedBytes: enc.compressedBytes,
    codec: enc.codec,
    checksum: enc.checksum,
  };
  return { meta, payload: enc.payload };
}

/** Two incompressible documents of ~8.2 MiB each, codec none: a slice near the 17 MiB maximum. */
export function largeSlice(jobId: string, ns: string, sequence: number): TestSlice {
  const syncId = `${jobId}-s1`;
  const docs = [0, 1].map((i) =>
    Buffer.from(BSON.serialize({ _id: i, blob: randomBytes(Math.round(8.2 * 1024 * 1024)) })),
  );
  const enc = encodeSlicePayload(docs, 'none');
  const meta: InitialSliceMeta = {
    kind: 'initial',
    origin: 'scan',
    namespace: ns,
    jobId,
    syncId,
    sliceId: `${syncId}:i:${ns}:${sequence}`,
    sequence,
    docCount: enc.docCount,
    rawBytes: enc.rawBytes,
    compressedBytes: enc.compressedBytes,
    codec: enc.codec,
    checksum: enc.checksum,
  };
  return { meta, payload: enc.payload };
}

export function oplogSlice(jobId: string, prevTs: OpTime, lastTs: OpTime): TestSlice {
  const syncId = `${jobId}-s1`;
  const entries = [
    { ts: new Timestamp({ t: prevTs.t, i: prevTs.i + 1 }), op: 'i', ns: 'shop.orders', o: { _id: 1, n: 1 } },
    {
      ts: new Timestamp({ t: lastTs.t, i: lastTs.i }),
      op: 'u',
      ns: 'shop.orders',
      o2: { _id: 1 },
      o: { $set: { n: 2 } },
    },
  ].map((e) => Buffer.from(BSON.serialize(e)));
  const enc = encodeSlicePayload(entries, 'brotli');
  const meta: OplogSliceMeta = {
    kind: 'oplog',
    jobId,
    syncId,
    sliceId: `${syncId}:o:${prevTs.t}.${prevTs.i}:${lastTs.t}.${lastTs.i}`,
    sequence: 0,
    docCount: enc.docCount,
    rawBytes: enc.rawBytes,
    compressedBytes: enc.compressedBytes,
    codec: enc.codec,
    checksum: enc.checksum,
    prevTs,
    firstTs: { t: prevTs.t, i: prevTs.i + 1 },
    lastTs,
  };
  return { meta, payload: enc.payload };
}

export function catalogSlice(jobId: string, namespaces: string[]): TestSlice {
  const syncId = `${jobId}-s1`;
  const enc = encodeSlicePayload(
    encodeCatalog({
      origin: 'scan',
      startTs: { t: 1_700_000_000, i: 1 },
      endTs: { t: 1_700_000_100, i: 1 },
      namespaces: namespaces.map((ns) => ({ ns, sliceCount: 1, docCount: 50 })),
    }),
    'gzip',
  );
  const meta: CatalogSliceMeta = {
    kind: 'catalog',
    origin: 'scan',
    jobId,
    syncId,
    sliceId: `${syncId}:c:scan`,
    sequence: 0,
    docCount: enc.docCount,
    rawBytes: enc.rawBytes,
    compressedBytes: enc.compressedBytes,
    codec: enc.codec,
    checksum: enc.checksum,
  };
  return { meta, payload: enc.payload };
}

/** The `SliceProduced` record of a slice; `payload` replaces the payload bytes (for corrupted variants). */
export function recordOf(slice: TestSlice, payload: Buffer = slice.payload): SliceProduced {
  return sliceProducedFromMeta(slice.meta, payload, new Date());
}

/** The payload with one byte flipped: same size, wrong checksum. */
export function flipByte(payload: Buffer): Buffer {
  const copy = Buffer.from(payload);
  copy[copy.length >> 1]! ^= 0x40;
  return copy;
}
