/** Between the domain's {@link OpTime} and BSON `Timestamp` (the type of an oplog entry's `ts`). */
import { Timestamp } from 'mongodb';
import type { OpTime } from '@tidemark/domain';

export function opTimeFromTimestamp(ts: Timestamp): OpTime {
  return { t: ts.t, i: ts.i };
}

export function timestampFromOpTime(value: OpTime): Timestamp {
  return new Timestamp({ t: value.t, i: value.i });
}
