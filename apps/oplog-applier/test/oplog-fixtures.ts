/**
 * Oplog entries and slices for the integration test, in the layout the agent stores them: raw BSON entries as
 * FerretDB writes them (its own `_id`; `u` as `$v:1` `$set` of the whole document) or as MongoDB documents them
 * (`$v:2` diffs, commands), packed into oplog slices with the real payload encoding.
 */
import { BSON, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import type { OpTime, OplogSliceMeta } from '@tidemark/domain';
import { encodeSlicePayload } from '@tidemark/slices';

export const ts = (t: number, i: number): OpTime => ({ t, i });

export function entry(at: OpTime, fields: Document): Buffer {
  return Buffer.from(
    BSON.serialize({
      _id: new ObjectId(),
      ts: new Timestamp({ t: at.t, i: at.i }),
      t: new Long(1),
      v: new Int32(2),
      ...fields,
      wall: new Date(at.t * 1000),
    }),
  );
}

export const insert = (at: OpTime, ns: string, doc: Document) => entry(at, { op: 'i', ns, o: doc });
/** FerretDB's update entry: `$v:1` `$set` of the whole new document, `_id` included. */
export const ferretUpdate = (at: OpTime, ns: string, doc: Document) =>
  entry(at, { op: 'u', ns, o: { $v: new Int32(1), $set: doc }, o2: { _id: doc['_id'] } });
/** MongoDB's `$v:2` diff update. */
export const diffUpdate = (at: OpTime, ns: string, id: unknown, diff: Document) =>
  entry(at, { op: 'u', ns, o: { $v: new Int32(2), diff }, o2: { _id: id } });
export const remove = (at: OpTime, ns: string, id: unknown) => entry(at, { op: 'd', ns, o: { _id: id } });
export const command = (at: OpTime, db: string, o: Document) => entry(at, { op: 'c', ns: `${db}.$cmd`, o });

function tsOf(raw: Buffer): OpTime {
  const at = BSON.deserialize(raw)['ts'] as Timestamp;
  return { t: at.t, i: at.i };
}

let sequence = 0;

/** An oplog slice of job `jobId`, sync 1, covering `(prevTs, lastTs]`; `tag` tells apart re-cut slices. */
export function oplogSlice(
  jobId: string,
  prevTs: OpTime,
  lastTs: OpTime,
  entries: Buffer[],
  tag = '',
): { meta: OplogSliceMeta; payload: Buffer } {
  const syncId = `${jobId}-s1`;
  const e = encodeSlicePayload(entries, 'gzip');
  return {
    meta: {
      kind: 'oplog',
      jobId,
      syncId,
      sliceId: `${syncId}:o:${prevTs.t}.${prevTs.i}:${lastTs.t}.${lastTs.i}${tag}`,
      sequence: sequence++,
      prevTs,
      lastTs,
      ...(entries.length === 0 ? {} : { firstTs: tsOf(entries[0]!) }),
      docCount: e.docCount,
      rawBytes: e.rawBytes,
      compressedBytes: e.compressedBytes,
      codec: e.codec,
      checksum: e.checksum,
    },
    payload: e.payload,
  };
}
