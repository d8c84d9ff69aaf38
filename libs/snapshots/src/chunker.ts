/**
 * Content-defined chunking: FastCDC, the 2020 version (Xia et al., "The Design of Fast Content-Defined Chunking for
 * Data Deduplication Based Storage Systems", IEEE TPDS 2020): a gear rolling hash, normalized chunking (a harder
 * mask before the average size, an easier one after) and "rolling two bytes each time".
 *
 * The cut points are exactly those of the widely used `fastcdc` Rust crate (`v2020`, normalization level 1 by
 * default): the same gear table (MD5 of 64 bytes of `0..255`, first 8 bytes big-endian), the same masks and the same
 * loop bounds, checked against its published vectors in `chunker.spec.ts`. So a reader in another language can
 * re-chunk and compare (docs/format.md, "Snapshots").
 *
 * Streaming: {@link Chunker} takes input buffers of any size and split, and hands out chunks as soon as their cut
 * point is known. It holds at most `maxSize` pending bytes, whatever the input's size; the chunks are exactly those
 * of chunking the whole input as one buffer.
 */
import { createHash } from 'node:crypto';
import { TidemarkError } from '@tidemark/domain';
import type { BufferPool } from '@tidemark/util';

export const FASTCDC_ALGORITHM = 'fastcdc-2020';

/** Chunking parameters. Sizes in bytes. */
export interface ChunkingOptions {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
  /** Normalization level 0..3 (how hard the hash is pushed towards `avgSize`); 1 by default. */
  readonly normalization?: number;
}

/**
 * Tidemark's defaults: 4 KiB / 16 KiB / 32 KiB, normalization level 2. Small chunks keep what a scattered change
 * touches small; the maximum of 32 KiB lets a whole chunk serve as a delta block's base within deflate's window
 * (block-codec.ts); level 2 keeps chunks close to the average, so few are cut at the maximum (where the cut is not
 * content-defined).
 */
export const DEFAULT_CHUNKING: Required<ChunkingOptions> = Object.freeze({
  minSize: 4 * 1024,
  avgSize: 16 * 1024,
  maxSize: 32 * 1024,
  normalization: 2,
});

/** Chunking parameters are out of range. Not retriable. */
export class InvalidChunkingError extends TidemarkError {
  override readonly name: string = 'InvalidChunkingError';
  constructor(reason: string) {
    super(`invalid chunking parameters: ${reason}`, { retriable: false });
  }
}

// Masks by log2 of the target size, as the reference implementation spreads the bits (index = bits).
const MASKS: readonly bigint[] = [
  0n,
  0n,
  0n,
  0n,
  0n,
  0x0000000001804110n,
  0x0000000001803110n,
  0x0000000018035100n,
  0x0000001800035300n,
  0x0000019000353000n,
  0x0000590003530000n,
  0x0000d90003530000n,
  0x0000d90103530000n,
  0x0000d90303530000n,
  0x0000d90313530000n,
  0x0000d90f03530000n,
  0x0000d90303537000n,
  0x0000d90703537000n,
  0x0000d90707537000n,
  0x0000d91707537000n,
  0x0000d91747537000n,
  0x0000d91767537000n,
  0x0000d93767537000n,
  0x0000d93777537000n,
  0x0000d93777577000n,
  0x0000db3777577000n,
];

/** The gear table as two 32-bit halves: entry `b` is the first 8 bytes (big-endian) of MD5(64 bytes of value b). */
const GEAR_HI = new Uint32Array(256);
const GEAR_LO = new Uint32Array(256);
/** GEAR_LO as signed 32-bit integers, so the hot loop stays in int32 arithmetic. */
const GEAR_LO_I32 = new Int32Array(GEAR_LO.buffer);
for (let b = 0; b < 256; b++) {
  const digest = createHash('md5').update(Buffer.alloc(64, b)).digest();
  GEAR_HI[b] = digest.readUInt32BE(0);
  GEAR_LO[b] = digest.readUInt32BE(4);
}

/** Checked parameters with the masks split into 32-bit halves. */
interface Params {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
  readonly normalization: number;
  readonly maskSHi: number;
  readonly maskSLo: number;
  readonly maskLHi: number;
  readonly maskLLo: number;
}

function isInt(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Checks the parameters (the reference implementation's bounds) and picks the masks. */
export function chunkingParams(options: ChunkingOptions = DEFAULT_CHUNKING): Params {
  const { minSize, avgSize, maxSize } = options;
  const normalization = options.normalization ?? 1;
  const problems: string[] = [];
  if (!isInt(minSize, 64, 64 * 1024 * 1024)) problems.push(`minSize ${minSize} not an integer in 64..64 MiB`);
  if (!isInt(avgSize, 256, 256 * 1024 * 1024))
    problems.push(`avgSize ${avgSize} not an integer in 256..256 MiB`);
  if (!isInt(maxSize, 1024, 1024 * 1024 * 1024))
    problems.push(`maxSize ${maxSize} not an integer in 1 KiB..1 GiB`);
  if (!isInt(normalization, 0, 3)) problems.push(`normalization ${normalization} not one of 0, 1, 2, 3`);
  if (problems.length === 0 && !(minSize <= avgSize && avgSize <= maxSize)) {
    problems.push(`need minSize <= avgSize <= maxSize, got ${minSize} / ${avgSize} / ${maxSize}`);
  }
  const bits = Math.round(Math.log2(avgSize));
  if (problems.length === 0 && (bits + normalization >= MASKS.length || bits - normalization < 5)) {
    problems.push(`normalization ${normalization} out of range for avgSize ${avgSize}`);
  }
  if (problems.length > 0) throw new InvalidChunkingError(problems.join('; '));
  const maskS = MASKS[bits + normalization] ?? 0n;
  const maskL = MASKS[bits - normalization] ?? 0n;
  return {
    minSize,
    avgSize,
    maxSize,
    normalization,
    maskSHi: Number(maskS >> 32n),
    maskSLo: Number(maskS & 0xffffffffn),
    maskLHi: Number(maskL >> 32n),
    maskLLo: Number(maskL & 0xffffffffn),
  };
}

/**
 * The result of {@link cutPoint}: the chunk's length and the gear hash (64-bit) at the cut, as the reference
 * implementation reports it (only the length matters to Tidemark; the hash pins the implementation in specs).
 */
export interface Cut {
  readonly length: number;
  readonly hash: bigint;
}

/**
 * The length of the next chunk at the start of `data[start, end)`. Looks at no more than `maxSize` bytes. When
 * fewer bytes than `maxSize` remain, the caller must pass all of them (the end of the input), as the last chunks
 * depend on where the input ends.
 */
export function cutPoint(params: Params, data: Uint8Array, start = 0, end = data.length): Cut {
  let remaining = end - start;
  if (remaining <= params.minSize) return { length: remaining, hash: 0n };
  let center = params.avgSize;
  if (remaining > params.maxSize) remaining = params.maxSize;
  else if (remaining < center) center = remaining;
  // The reference rolls two bytes per step from min/2 up to center/2, then up to remaining/2; checking one byte at a
  // time over the same even-rounded bounds finds the same cut (its even-byte check is the same test shifted by one).
  const first = params.minSize - (params.minSize % 2);
  const switchAt = center - (center % 2);
  const last = remaining - (remaining % 2);
  // The hot loop keeps only the low 32 bits of the 64-bit hash. Bit k of the hash depends only on the last k + 1
  // bytes (older ones are shifted out), so when the low half passes its mask, the whole hash is recomputed from the
  // last 64 bytes (at most) and the high half tested: exact, and about one recomputation per 2^(low mask bits) bytes.
  const gearLo = GEAR_LO_I32;
  let lo = 0; // int32: the low half, signed
  let p = first;
  for (let mHi = params.maskSHi, mLo = params.maskSLo | 0, stop = switchAt; ;) {
    for (; p < stop; p++) {
      lo = ((lo << 1) + (gearLo[data[start + p] as number] as number)) | 0;
      if ((lo & mLo) === 0) {
        const hi = highHalf(data, start + Math.max(first, p - 63), start + p);
        if ((hi & mHi) === 0) return { length: p, hash: reportedHash(hi, lo >>> 0, p) };
      }
    }
    if (stop === last) break;
    mHi = params.maskLHi;
    mLo = params.maskLLo | 0;
    stop = last;
  }
  const hi = p > first ? highHalf(data, start + Math.max(first, p - 64), start + p - 1) : 0;
  return { length: remaining, hash: hash64(hi, lo >>> 0) };
}

/** The high 32 bits of the gear hash rolled from 0 over `data[from..to]` (inclusive). */
function highHalf(data: Uint8Array, from: number, to: number): number {
  let hi = 0;
  let lo = 0;
  for (let q = from; q <= to; q++) {
    const b = data[q] as number;
    const sum = ((lo << 1) >>> 0) + (GEAR_LO[b] as number);
    hi = ((hi << 1) + (lo >>> 31) + (GEAR_HI[b] as number) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    lo = sum >>> 0;
  }
  return hi;
}

function hash64(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The hash as the reference reports it: at an even position it holds it shifted left by one (its two-byte step). */
function reportedHash(hi: number, lo: number, position: number): bigint {
  const hash = hash64(hi, lo);
  return position % 2 === 0 ? (hash << 1n) & 0xffff_ffff_ffff_ffffn : hash;
}

/**
 * A streaming chunker. Feed input with {@link push} (any buffer sizes, any split), then {@link finish}; both yield
 * the chunks completed so far, in order, lazily: iterate each one to the end before the next call (one big input
 * buffer gives its chunks one at a time, never all at once). Each chunk is a fresh buffer the caller may keep, or,
 * given a `pool`, a view lent from it, which the caller gives back (`pool.give`) once it holds no view on it.
 * Pending bytes never exceed `maxSize`.
 */
export class Chunker {
  private readonly params: Params;
  private readonly pending: Uint8Array;
  private filled = 0;
  private finished = false;

  constructor(
    options: ChunkingOptions = DEFAULT_CHUNKING,
    private readonly pool?: BufferPool,
  ) {
    this.params = chunkingParams(options);
    this.pending = new Uint8Array(this.params.maxSize);
  }

  /** The checked parameters, as a manifest records them. */
  get options(): Required<ChunkingOptions> {
    const { minSize, avgSize, maxSize, normalization } = this.params;
    return { minSize, avgSize, maxSize, normalization };
  }

  /** Adds input; yields the chunks whose cut points are now known. */
  *push(data: Uint8Array): Generator<Uint8Array, void, undefined> {
    if (this.finished) throw new Error('Chunker: push() after finish()');
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(data.length - offset, this.pending.length - this.filled);
      this.pending.set(data.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.pending.length) yield this.cutOne();
    }
  }

  /** Ends the input; yields the remaining chunks (the last one may be shorter than `minSize`). */
  *finish(): Generator<Uint8Array, void, undefined> {
    if (this.finished) throw new Error('Chunker: finish() called twice');
    this.finished = true;
    while (this.filled > 0) yield this.cutOne();
  }

  private cutOne(): Uint8Array {
    const { length } = cutPoint(this.params, this.pending, 0, this.filled);
    let chunk: Uint8Array;
    if (this.pool === undefined) chunk = this.pending.slice(0, length);
    else {
      chunk = this.pool.take(length);
      chunk.set(this.pending.subarray(0, length));
    }
    this.pending.copyWithin(0, length, this.filled);
    this.filled -= length;
    return chunk;
  }
}

/** Chunks an async stream of buffers; memory is bounded by `maxSize` plus the input buffer being read. */
export async function* chunkStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ChunkingOptions = DEFAULT_CHUNKING,
): AsyncGenerator<Uint8Array> {
  const chunker = new Chunker(options);
  for await (const data of input) yield* chunker.push(data);
  yield* chunker.finish();
}
