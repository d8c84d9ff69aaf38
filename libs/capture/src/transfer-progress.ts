/**
 * Progress of a transfer: documents and raw bytes delivered (acknowledged by Kafka) against the source's
 * estimates, per namespace and overall. Estimates may be unknown (undefined) or wrong (a collection grows during
 * the scan); the counts are exact.
 */
import type { PhaseProgress } from '@tidemark/domain';
import type { Clock, SourceNamespaceInfo } from './ports';

interface Counts {
  docs: number;
  bytes: number;
  readonly docsTotal: number | undefined;
  readonly bytesTotal: number | undefined;
}

function sumOrNull(values: readonly (bigint | null)[]): bigint | null {
  let total = 0n;
  for (const v of values) {
    if (v === null) return null;
    total += v;
  }
  return total;
}

const int64OrNull = (n: number | undefined): bigint | null => (n === undefined ? null : BigInt(n));

export class TransferProgress {
  private readonly byNs = new Map<string, Counts>();

  constructor(namespaces: readonly SourceNamespaceInfo[]) {
    for (const n of namespaces) {
      this.byNs.set(n.ns, { docs: 0, bytes: 0, docsTotal: n.estimatedDocs, bytesTotal: n.estimatedBytes });
    }
  }

  /** Counts `docs` documents of `bytes` raw bytes of `ns` as delivered. */
  add(ns: string, docs: number, bytes: number): void {
    const counts = this.byNs.get(ns);
    if (counts === undefined) throw new RangeError(`namespace ${ns} is not part of this transfer`);
    counts.docs += docs;
    counts.bytes += bytes;
  }

  /** The progress so far, as a phase report carries it (Int64 counters; a total is null while unknown). */
  report(): PhaseProgress {
    const namespaces = [...this.byNs].map(([namespace, c]) => ({
      namespace,
      docsCopied: BigInt(c.docs),
      docsTotal: int64OrNull(c.docsTotal),
      bytesCopied: BigInt(c.bytes),
      bytesTotal: int64OrNull(c.bytesTotal),
    }));
    return {
      docsCopied: namespaces.reduce((n, p) => n + p.docsCopied, 0n),
      docsTotal: sumOrNull(namespaces.map((p) => p.docsTotal)),
      bytesCopied: namespaces.reduce((n, p) => n + p.bytesCopied, 0n),
      bytesTotal: sumOrNull(namespaces.map((p) => p.bytesTotal)),
      namespaces,
    };
  }
}

/** At most one report per `intervalMs`, and never two at once. */
export class ReportThrottle {
  private last = -Infinity;
  private busy = false;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  /** Runs `report` when the interval has passed and no report is running; otherwise does nothing. */
  async maybe(report: () => Promise<void>): Promise<void> {
    const now = this.clock.now();
    if (this.busy || now - this.last < this.intervalMs) return;
    this.busy = true;
    this.last = now;
    try {
      await report();
    } finally {
      this.busy = false;
    }
  }
}
