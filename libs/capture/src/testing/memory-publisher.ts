/**
 * An in-memory Kafka for unit specs implementing the `SlicePublisher` port: it validates every slice as
 * slice-ingest would (metadata rules, payload checksum, framing, document count) and records slices, phases and
 * alerts in publish order. Acknowledgements can be delayed (a gate) and failures injected.
 */
import { assertValidSliceMeta, DEFAULT_SLICE_LIMITS, type OpTime, type SliceMeta } from '@tidemark/domain';
import { decodeCatalog, decodeSlicePayload, type Catalog } from '@tidemark/slices';
import type { Alert } from '@tidemark/domain';
import type { PhaseReport } from '@tidemark/domain';
import type { SlicePublisher } from '../ports';

export interface PublishedSlice {
  readonly meta: SliceMeta;
  readonly docs: Buffer[];
}

export type Published =
  | { readonly type: 'slice'; readonly slice: PublishedSlice }
  | { readonly type: 'phase'; readonly phase: PhaseReport }
  | { readonly type: 'alert'; readonly alert: Alert };

export class MemoryPublisher implements SlicePublisher {
  readonly log: Published[] = [];
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private readonly failures: { kind: 'slice' | 'phase' | 'alert'; error: unknown }[] = [];
  /** Slice publishes waiting at the gate now. */
  waiting = 0;

  get slices(): PublishedSlice[] {
    return this.log.flatMap((p) => (p.type === 'slice' ? [p.slice] : []));
  }

  get phases(): PhaseReport[] {
    return this.log.flatMap((p) => (p.type === 'phase' ? [p.phase] : []));
  }

  get alerts(): Alert[] {
    return this.log.flatMap((p) => (p.type === 'alert' ? [p.alert] : []));
  }

  oplogSlices(): (PublishedSlice & { meta: Extract<SliceMeta, { kind: 'oplog' }> })[] {
    return this.slices.filter(
      (s): s is PublishedSlice & { meta: Extract<SliceMeta, { kind: 'oplog' }> } => s.meta.kind === 'oplog',
    );
  }

  catalogs(): Catalog[] {
    return this.slices
      .filter((s) => s.meta.kind === 'catalog')
      .map((s) => decodeCatalog(s.docs, s.meta.sliceId));
  }

  /** Newest `lastTs` of the oplog slices. */
  shippedTs(): OpTime | undefined {
    return this.oplogSlices().at(-1)?.meta.lastTs;
  }

  /** Holds slice acknowledgements until {@link release}. */
  hold(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  failNext(kind: 'slice' | 'phase' | 'alert', error: unknown): void {
    this.failures.push({ kind, error });
  }

  async publishSlice(meta: SliceMeta, payload: Buffer): Promise<void> {
    this.takeFailure('slice');
    assertValidSliceMeta(meta);
    const docs = decodeSlicePayload(payload, meta, DEFAULT_SLICE_LIMITS);
    while (this.gate !== undefined) {
      this.waiting += 1;
      await this.gate;
      this.waiting -= 1;
    }
    this.log.push({ type: 'slice', slice: { meta, docs } });
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    this.takeFailure('phase');
    this.log.push({ type: 'phase', phase: report });
  }

  async publishAlert(alert: Alert): Promise<void> {
    this.takeFailure('alert');
    this.log.push({ type: 'alert', alert });
  }

  private takeFailure(kind: 'slice' | 'phase' | 'alert'): void {
    const index = this.failures.findIndex((f) => f.kind === kind);
    if (index >= 0) throw this.failures.splice(index, 1)[0]!.error;
  }
}

/** A retriable failure, as Kafka or the source report a transient problem. */
export class TransientError extends Error {
  readonly retriable = true;
}

/** Waits until `condition()` holds, polling; fails after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
  everyMs = 5,
): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
