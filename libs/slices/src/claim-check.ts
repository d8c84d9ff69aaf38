/**
 * The claim check: published on `tidemark.slices.stored` once a slice is durable in the oplog store. It carries
 * the slice's identity and range, never its payload; consumers load the payload from the oplog store by slice id.
 * The bus encodes it as the `SliceStored` record.
 */
import type { OpTime, SliceMeta, SliceOrigin } from '@tidemark/domain';

interface ClaimCheckBase {
  readonly jobId: string;
  readonly syncId: string;
  readonly sliceId: string;
  readonly sequence: number;
  /** Documents (or oplog entries) in the slice. */
  readonly docCount: number;
  /** Size of the stored payload, bytes. */
  readonly compressedBytes: number;
  /** When the oplog store acknowledged the write (or, for a duplicate, when it was found stored). */
  readonly storedAt: Date;
}

export interface InitialClaimCheck extends ClaimCheckBase {
  readonly kind: 'initial';
  readonly origin: SliceOrigin;
  readonly namespace: string;
}

export interface CatalogClaimCheck extends ClaimCheckBase {
  readonly kind: 'catalog';
  readonly origin: SliceOrigin;
}

/** Oplog slices carry their complete range `(prevTs, lastTs]`, and `firstTs` when they hold entries. */
export interface OplogClaimCheck extends ClaimCheckBase {
  readonly kind: 'oplog';
  readonly prevTs: OpTime;
  readonly firstTs?: OpTime;
  readonly lastTs: OpTime;
}

export type SliceClaimCheck = InitialClaimCheck | CatalogClaimCheck | OplogClaimCheck;

/** The claim check of a stored slice. */
export function claimCheckFromMeta(meta: SliceMeta, storedAt: Date): SliceClaimCheck {
  const base: ClaimCheckBase = {
    jobId: meta.jobId,
    syncId: meta.syncId,
    sliceId: meta.sliceId,
    sequence: meta.sequence,
    docCount: meta.docCount,
    compressedBytes: meta.compressedBytes,
    storedAt,
  };
  switch (meta.kind) {
    case 'initial':
      return { ...base, kind: 'initial', origin: meta.origin, namespace: meta.namespace };
    case 'catalog':
      return { ...base, kind: 'catalog', origin: meta.origin };
    case 'oplog':
      return {
        ...base,
        kind: 'oplog',
        prevTs: { ...meta.prevTs },
        ...(meta.firstTs === undefined ? {} : { firstTs: { ...meta.firstTs } }),
        lastTs: { ...meta.lastTs },
      };
  }
}
