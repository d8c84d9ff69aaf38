/**
 * For the dump specs (not exported): documents of every BSON type, namespaces, and a stand-in for the restore
 * driver that writes them through a {@link RestoreTarget} the way the port's contract allows (several inserts of
 * one namespace at once, namespaces interleaved).
 */
import { createHash } from 'node:crypto';
import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'bson';
import { MAX_BSON_SIZE } from './dump-format';
import type { RestoreIndexSpec, RestoreNamespace, RestoreTarget } from './ports';

/** Documents covering every BSON type a collection can hold (deprecated ones included), as raw BSON. */
export function documentsOfEveryType(): Uint8Array[] {
  const docs: Record<string, unknown>[] = [
    {
      _id: 1,
      decimal: Decimal128.fromString('1234567890.123456789012345678901234'),
      negZero: new Double(-0),
    },
    {
      _id: 2,
      int64: Long.fromString('9223372036854775807'),
      int64min: Long.MIN_VALUE,
      int32: new Int32(-2147483648),
    },
    {
      _id: 3,
      generic: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      fn: new Binary(Buffer.from('f'), 1),
      oldUuid: new Binary(Buffer.alloc(16, 7), 3),
      uuid: new UUID('0123456789abcdef0123456789abcdef'),
      md5: new Binary(Buffer.alloc(16, 9), 5),
      encrypted: new Binary(Buffer.from([1, 2, 3]), 6),
      vector: new Binary(Buffer.from([0x03, 0x00, 1, 2]), 9),
      user: new Binary(Buffer.from('user-defined'), 0x80),
    },
    { _id: 4, regex: new BSONRegExp('^a.*b$', 'imsux'), date: new Date('2026-12-03T17:00:00.123Z') },
    {
      _id: 5,
      beforeEpoch: new Date(-86_400_000),
      maxDate: new Date(8.64e15),
      nested: [[1, [2, [3, []]]], { a: [{ b: [null] }] }],
    },
    {
      _id: new ObjectId('65f0c0ffee0000000000abcd'),
      ts: new Timestamp({ t: 1_700_000_000, i: 7 }),
      min: new MinKey(),
      max: new MaxKey(),
      code: new Code('function () { return 1; }'),
      codeWithScope: new Code('function () { return x; }', { x: 1 }),
      symbol: new BSONSymbol('sym'),
      ref: new DBRef('other', new ObjectId('65f0c0ffee0000000000abce'), 'db2'),
      nothing: null,
      bools: [true, false],
      text: 'Grüße, 東京, 🙂',
      nan: NaN,
      inf: -Infinity,
      double: 0.1,
    },
  ];
  return docs.map((d) => BSON.serialize(d));
}

/** One document of exactly `size` bytes (at most 16 MiB): an `_id` and a binary field filling the rest. */
export function documentOfSize(id: number, size: number): Uint8Array {
  if (size > MAX_BSON_SIZE) throw new Error('larger than a dump allows');
  const empty = BSON.serialize({ _id: id, fill: new Binary(Buffer.alloc(0), 0) }).byteLength;
  const fill = Buffer.alloc(size - empty);
  for (let i = 0; i < fill.length; i += 4096) fill[i] = i & 0xff;
  const doc = BSON.serialize({ _id: id, fill: new Binary(fill, 0) });
  if (doc.byteLength !== size) throw new Error(`built ${doc.byteLength} bytes, wanted ${size}`);
  return doc;
}

/** Small plain documents `{_id: i, n: 'doc i'}`. */
export function plainDocuments(from: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => BSON.serialize({ _id: from + k, n: `doc ${from + k}` }));
}

export const ID_INDEX: RestoreIndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

export function restoreNamespace(
  targetNs: string,
  docs: readonly Uint8Array[] = [],
  extra: { options?: Record<string, unknown>; indexes?: RestoreIndexSpec[] } = {},
): RestoreNamespace {
  return {
    sourceNs: targetNs,
    targetNs,
    options: extra.options ?? {},
    indexes: extra.indexes ?? [ID_INDEX],
    documentCount: docs.length,
    logicalBytes: docs.reduce((s, d) => s + d.byteLength, 0),
  };
}

/** A fixed UUID per namespace, so metadata can be compared byte for byte. */
export function fixedUuid(ns: RestoreNamespace): string {
  return createHash('sha256').update(ns.targetNs).digest('hex').slice(0, 32);
}

export interface Planned {
  readonly ns: RestoreNamespace;
  readonly docs: readonly Uint8Array[];
}

/**
 * Writes the namespaces through `target` as the driver may: `begin`, then every namespace prepared, then batches of
 * `batch` documents inserted round-robin across namespaces, with `parallel` inserts of one namespace started at once
 * (awaited together), then each `finish`, then `end`.
 */
export async function writeThrough(
  target: RestoreTarget,
  planned: readonly Planned[],
  opts: { drop?: boolean; batch?: number; parallel?: number } = {},
): Promise<void> {
  const batch = opts.batch ?? 3;
  const parallel = opts.parallel ?? 3;
  await target.begin(planned.map((p) => p.ns));
  for (const p of planned) await target.prepare(p.ns, { drop: opts.drop ?? false });
  const cursors = planned.map(() => 0);
  for (;;) {
    let any = false;
    for (const [k, p] of planned.entries()) {
      const calls: Promise<void>[] = [];
      for (let j = 0; j < parallel && cursors[k]! < p.docs.length; j++) {
        calls.push(target.insert(p.ns, p.docs.slice(cursors[k], cursors[k]! + batch)));
        cursors[k]! += batch;
        any = true;
      }
      await Promise.all(calls);
    }
    if (!any) break;
  }
  for (const p of planned) await target.finish(p.ns);
  await target.end();
}

export function sha256Of(docs: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const d of docs) h.update(d);
  return h.digest('hex');
}
