/**
 * Opening an oplog slice's entries: each raw BSON entry is decoded with BSON wrapper values (`promoteValues:
 * false`, so Int32, Long, Double (including -0.0), Decimal128, Binary subtypes, regular expressions, ... reach the
 * head as the source wrote them) and, unless turned off, encoded again and compared byte for byte with the
 * original, as the head-builder does for documents: an entry the driver would write back differently (the
 * deprecated `undefined` and DBPointer types) is refused instead of being applied changed.
 *
 * The slice's own promise is checked too: entries are in strictly increasing timestamp order, inside the slice's
 * range `(prevTs, lastTs]`. A slice that breaks it is not trusted (not retriable).
 */
import { BSON, type Document } from 'bson';
import {
  SliceValidationError,
  TidemarkError,
  compareOpTime,
  formatOpTime,
  type OpTime,
  type OplogSliceMeta,
} from '@tidemark/domain';
import { byteForByte, WRAPPED_VALUES } from '@tidemark/util';

/** An oplog entry that the driver cannot write back byte for byte. Not retriable. */
export class EntryFidelityError extends TidemarkError {
  override readonly name: string = 'EntryFidelityError';
  readonly sliceId: string;
  /** Position of the entry in the slice, from 0. */
  readonly index: number;

  constructor(sliceId: string, index: number, ts: string) {
    super(
      `slice ${sliceId}: entry ${index} (ts ${ts}) would not be applied byte for byte: it holds something a JS ` +
        'object cannot carry unchanged (a date outside the JS range, or a deprecated type such as undefined or ' +
        'DBPointer); refusing to apply it changed',
      { retriable: false },
    );
    this.sliceId = sliceId;
    this.index = index;
  }
}

/** One decoded entry of a slice. */
export interface SliceEntry {
  readonly ts: OpTime;
  readonly op: string;
  /** The whole entry, BSON wrapper values. */
  readonly doc: Document;
}

function tsOf(doc: Document): OpTime | undefined {
  const ts = doc['ts'] as { _bsontype?: string; high?: number; low?: number } | undefined;
  if (ts?._bsontype !== 'Timestamp' || typeof ts.high !== 'number' || typeof ts.low !== 'number')
    return undefined;
  return { t: ts.high >>> 0, i: ts.low >>> 0 };
}

/** Decodes and checks a slice's entries (see the module comment). */
export function openSliceEntries(
  raw: readonly Buffer[],
  meta: OplogSliceMeta,
  options: { readonly verifyRoundTrip: boolean },
): SliceEntry[] {
  const fail = (reason: string): never => {
    throw new SliceValidationError({ sliceId: meta.sliceId, reason });
  };
  const entries: SliceEntry[] = [];
  let previous = meta.prevTs;
  raw.forEach((bytes, index) => {
    let doc = BSON.deserialize(bytes, WRAPPED_VALUES);
    const ts = tsOf(doc);
    if (ts === undefined) return fail(`entry ${index} has no Timestamp "ts"`);
    if (compareOpTime(ts, previous) <= 0) {
      fail(`entry ${index} at ${formatOpTime(ts)} is not after ${formatOpTime(previous)} (order or range)`);
    }
    if (compareOpTime(ts, meta.lastTs) > 0) {
      fail(`entry ${index} at ${formatOpTime(ts)} is after the slice's lastTs ${formatOpTime(meta.lastTs)}`);
    }
    if (options.verifyRoundTrip) {
      // A field order a JS object cannot keep comes back recorded beside the object (the target writes such
      // documents in that order, `inSourceOrder` of `@tidemark/util`).
      const faithful = byteForByte(bytes, doc);
      if (faithful === undefined) throw new EntryFidelityError(meta.sliceId, index, formatOpTime(ts));
      doc = faithful;
    }
    entries.push({ ts, op: typeof doc['op'] === 'string' ? doc['op'] : '', doc });
    previous = ts;
  });
  return entries;
}
