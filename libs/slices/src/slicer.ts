/**
 * The slicer: accumulates raw BSON documents and cuts slices of about `targetSliceBytes` compressed.
 *
 * The compressed size of a bundle is only known after compressing it, so the slicer keeps a raw-byte budget derived
 * from the compression ratio of the previous slice (starting at 1:1) and cuts when the budget is reached. Memory is
 * bounded by `maxRawBytesPerSlice`. A cut whose compressed payload exceeds `maxSliceBytes` is split in two and
 * retried; a single document always fits because `maxSliceBytes` is above the largest BSON document.
 */
import type { SliceCodec } from '@tidemark/domain';
import { encodeSlicePayload, MAX_BSON_BYTES, type EncodedPayload } from './payload';

export interface SlicerOptions {
  codec: SliceCodec;
  targetSliceBytes: number;
  maxSliceBytes: number;
  /** Upper bound on buffered raw bytes (memory bound). Default 64 MiB. */
  maxRawBytesPerSlice?: number;
}

export class Slicer {
  private docs: Buffer[] = [];
  private bytes = 0;
  private ratio = 1;
  private readonly maxRaw: number;

  constructor(private readonly opts: SlicerOptions) {
    if (opts.maxSliceBytes < MAX_BSON_BYTES + 1024) {
      throw new RangeError(
        `maxSliceBytes ${opts.maxSliceBytes} is below the largest BSON document (${MAX_BSON_BYTES})`,
      );
    }
    this.maxRaw = Math.max(opts.maxRawBytesPerSlice ?? 64 * 1024 * 1024, opts.targetSliceBytes);
  }

  get pendingDocs(): number {
    return this.docs.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** The raw-byte budget of the slice being filled. */
  get rawBudget(): number {
    return Math.min(
      this.maxRaw,
      Math.max(this.opts.targetSliceBytes, Math.floor(this.opts.targetSliceBytes / this.ratio)),
    );
  }

  /** Adds one document; returns the slices this completed (usually none, sometimes one). */
  add(doc: Buffer): EncodedPayload[] {
    const out: EncodedPayload[] = [];
    if (this.docs.length > 0 && this.bytes + doc.length > this.rawBudget) out.push(...this.cut());
    this.docs.push(doc);
    this.bytes += doc.length;
    if (this.bytes >= this.rawBudget) out.push(...this.cut());
    return out;
  }

  /** Cuts whatever is buffered (for time-based flushes and the end of a stream). */
  flush(): EncodedPayload[] {
    return this.docs.length === 0 ? [] : this.cut();
  }

  private cut(): EncodedPayload[] {
    const docs = this.docs;
    this.docs = [];
    this.bytes = 0;
    const slices = this.encodeWithinMax(docs);
    const raw = slices.reduce((n, s) => n + s.rawBytes, 0);
    const compressed = slices.reduce((n, s) => n + s.compressedBytes, 0);
    if (raw > 0) this.ratio = Math.min(1, Math.max(0.01, compressed / raw));
    return slices;
  }

  private encodeWithinMax(docs: Buffer[]): EncodedPayload[] {
    const encoded = encodeSlicePayload(docs, this.opts.codec);
    if (encoded.compressedBytes <= this.opts.maxSliceBytes || docs.length === 1) return [encoded];
    const half = Math.ceil(docs.length / 2);
    return [...this.encodeWithinMax(docs.slice(0, half)), ...this.encodeWithinMax(docs.slice(half))];
  }
}
