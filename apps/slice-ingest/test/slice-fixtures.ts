/**
 * Slices as the agent produces them, for slice-ingest's integration test: documents as raw BSON, slices from
 * `@tidemark/testing` (payloads from `encodeSlicePayload`), records from `sliceProducedFromMeta`, keys from the
 * topic declaration.
 */
import { randomBytes } from 'node:crypto';
import { BSON, Timestamp } from 'bson';
import { sliceProducedFromMeta, type SliceProduced } from '@tidemark/bus';
import type { OpTime } from '@tidemark/domain';
import {
  catalogSlice as testCatalogSlice,
  initialSlice as testInitialSlice,
  oplogSlice as testOplogSlice,
  type TestSlice,
} from '@tidemark/testing';

export type { TestSlice };

export function initialSlice(jobId: string, ns: string, sequence: number, count = 50): TestSlice {
  const docs = Array.from({ length: count }, (_, i) =>
    Buffer.from(BSON.serialize({ _id: sequence * 1000 + i, ns, body: 'x'.repeat(200 + i) })),
  );
  return testInitialSlice(jobId, ns, sequence, docs);
}

/** Two incompressible documents of ~8.2 MiB each, codec none: a slice near the 17 MiB maximum. */
export function largeSlice(jobId: string, ns: string, sequence: number): TestSlice {
  const docs = [0, 1].map((i) =>
    Buffer.from(BSON.serialize({ _id: i, blob: randomBytes(Math.round(8.2 * 1024 * 1024)) })),
  );
  return testInitialSlice(jobId, ns, sequence, docs, { codec: 'none' });
}

export function oplogSlice(jobId: string, prevTs: OpTime, lastTs: OpTime): TestSlice {
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
  return testOplogSlice(jobId, prevTs, lastTs, entries, { codec: 'brotli', sequence: 0 });
}

export function catalogSlice(jobId: string, namespaces: string[]): TestSlice {
  return testCatalogSlice(jobId, {
    origin: 'scan',
    startTs: { t: 1_700_000_000, i: 1 },
    endTs: { t: 1_700_000_100, i: 1 },
    namespaces: namespaces.map((ns) => ({ ns, sliceCount: 1, docCount: 50 })),
  });
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
