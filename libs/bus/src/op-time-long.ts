/**
 * Oplog positions in Avro `long` fields (`firstTs`, `lastTs`, `appliedTs`, `opTs`).
 *
 * A position is the unsigned 64-bit value `t << 32 | i`; Avro `long` is signed. The field holds the same 64 bits
 * in two's complement: `BigInt.asIntN(64, t << 32 | i)`. The two agree until `t` reaches 2^31 (January 2038);
 * after that the stored long is negative and readers must convert back with {@link opTimeFromAvroLong}, never
 * compare stored longs directly.
 */
import { opTimeFromBigInt, opTimeToBigInt, type OpTime } from '@tidemark/domain';

/** The Avro `long` that stores `ts`. */
export function opTimeToAvroLong(ts: OpTime): bigint {
  return BigInt.asIntN(64, opTimeToBigInt(ts));
}

/** The position stored in an Avro `long` (the inverse of {@link opTimeToAvroLong}). */
export function opTimeFromAvroLong(value: bigint): OpTime {
  return opTimeFromBigInt(BigInt.asUintN(64, value));
}
