/**
 * CRC-64 with the ECMA-182 polynomial in its reflected form (0xC96C5795D7870F42), initial value and final XOR all
 * ones: Go's `hash/crc64` with `crc64.ECMA`, the checksum mongodump writes in an archive's end-of-namespace header
 * and mongorestore checks (also known as CRC-64/XZ; "123456789" gives 0x995DC9BBDF1939FA). Kept as two 32-bit
 * halves so the byte loop never allocates.
 */
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
{
  const POLY_HI = 0xc96c5795;
  const POLY_LO = 0xd7870f42;
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ POLY_HI) >>> 0;
        lo = (lo ^ POLY_LO) >>> 0;
      }
    }
    TABLE_HI[n] = hi;
    TABLE_LO[n] = lo;
  }
}

/** A running CRC-64/ECMA (Go's `crc64.New(crc64.MakeTable(crc64.ECMA))`). */
export class Crc64Ecma {
  // The register, kept inverted (Go inverts on entry and exit of each update).
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(bytes: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < bytes.length; i++) {
      const idx = (lo ^ bytes[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!;
      hi = (hi >>> 8) ^ TABLE_HI[idx]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The checksum so far, as an unsigned 64-bit integer. */
  digest(): bigint {
    return (BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0);
  }
}
