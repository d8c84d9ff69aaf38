/**
 * `restoreSnapshot`: writes a snapshot's namespaces into a `RestoreTarget`, streaming, in parallel across namespaces
 * and within one, with progress and a final summary.
 *
 * 1. plan the namespaces (`planNamespaces`: include / exclude / rename) and ask the target what each holds; a
 *    non-empty one without `drop` refuses the whole restore before anything is written ({@link TargetNotEmptyError});
 * 2. `begin` with every planned namespace; then up to `namespaceConcurrency` namespaces at once: `prepare` (drop,
 *    create with options), the documents read in the snapshot's order and cut into batches (`batchDocuments` /
 *    `batchBytes`), up to `insertConcurrency` batches in flight across the restore, `finish` (indexes) once the
 *    namespace's inserts resolved; `end`.
 * 3. Each namespace's documents are checked as they are read (the reader checks every block, the count and the
 *    content hash); a namespace is finished only after its last document was read and written.
 *
 * Memory: the batches in flight and the one being filled (`(insertConcurrency + namespaceConcurrency) x batchBytes`,
 * plus one document), whatever the snapshot's size. A failure stops the restore and rejects with
 * {@link RestoreFailedError} saying what was written; a cancel (`signal`) with {@link RestoreCancelledError}.
 */
import type {
  RestoreNamespace,
  RestoreProgress,
  RestoreSnapshot,
  RestoreTarget,
  SnapshotDocuments,
} from './ports';
import { planNamespaces, SELECT_ALL, type RestoreSelection } from './namespace-plan';
import {
  RestoreCancelledError,
  RestoreFailedError,
  TargetNotEmptyError,
  type WrittenSoFar,
} from './restore-errors';

export interface RestoreTuning {
  /** Namespaces written at once. Default 2. */
  readonly namespaceConcurrency: number;
  /** Insert batches in flight at once, across all namespaces. Default 4. */
  readonly insertConcurrency: number;
  /** Documents per insert batch at most. Default 1000 (mongorestore's batch). */
  readonly batchDocuments: number;
  /** Bytes per insert batch at most (a larger single document goes alone). Default 4 MiB. */
  readonly batchBytes: number;
}

export const DEFAULT_RESTORE_TUNING: RestoreTuning = Object.freeze({
  namespaceConcurrency: 2,
  insertConcurrency: 4,
  batchDocuments: 1000,
  batchBytes: 4 * 1024 * 1024,
});

export interface RestoreSnapshotRequest {
  readonly snapshot: RestoreSnapshot;
  readonly documents: SnapshotDocuments;
  readonly target: RestoreTarget;
  readonly selection?: RestoreSelection;
  /** Replace non-empty target namespaces. */
  readonly drop?: boolean;
  readonly tuning?: Partial<RestoreTuning>;
  /** Called with the progress at most every `progressIntervalMs` (default 1000) and once at the end. */
  readonly onProgress?: (progress: RestoreProgress) => void;
  readonly progressIntervalMs?: number;
  /** Aborting it cancels the restore between batches. */
  readonly signal?: AbortSignal;
  /** Milliseconds now (progress throttling). */
  readonly clock?: () => number;
}

export interface NamespaceResult {
  readonly sourceNs: string;
  readonly documents: number;
  readonly bytes: number;
}

export interface RestoreSnapshotResult {
  readonly snapshotId: string;
  /** Per target namespace. */
  readonly namespaces: Readonly<Record<string, NamespaceResult>>;
  readonly documents: number;
  readonly bytes: number;
  readonly plan: readonly RestoreNamespace[];
}

/** Bounded slots: `acquire` waits for a free one. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.free += 1;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

/** Tracks what was written, for progress and for the error that says so. */
export class RestoreLedger {
  private readonly counts = new Map<string, { documents: number; bytes: number; done: boolean }>();
  documents = 0;
  bytes = 0;
  entries = 0;
  replayedTo: WrittenSoFar['replayedTo'];

  constructor(plan: readonly RestoreNamespace[]) {
    for (const ns of plan) this.counts.set(ns.targetNs, { documents: 0, bytes: 0, done: false });
  }

  wrote(targetNs: string, documents: number, bytes: number): void {
    const c = this.counts.get(targetNs);
    if (c === undefined) return;
    c.documents += documents;
    c.bytes += bytes;
    this.documents += documents;
    this.bytes += bytes;
  }

  finished(targetNs: string): void {
    const c = this.counts.get(targetNs);
    if (c !== undefined) c.done = true;
  }

  progress(): RestoreProgress {
    return {
      namespaces: Object.fromEntries([...this.counts].map(([ns, c]) => [ns, { ...c }])),
      documents: this.documents,
      bytes: this.bytes,
      entries: this.entries,
    };
  }

  written(): WrittenSoFar {
    const namespaces: Record<string, number> = {};
    for (const [ns, c] of this.counts) if (c.documents > 0) namespaces[ns] = c.documents;
    return {
      documents: this.documents,
      namespaces,
      finished: [...this.counts].filter(([, c]) => c.done).map(([ns]) => ns),
      entries: this.entries,
      ...(this.replayedTo === undefined ? {} : { replayedTo: this.replayedTo }),
    };
  }
}

/** Throttled progress reports. */
export class ProgressReporter {
  private last = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly ledger: RestoreLedger,
    private readonly onProgress: ((p: RestoreProgress) => void) | undefined,
    private readonly intervalMs: number,
    private readonly clock: () => number,
  ) {}
  maybe(): void {
    if (this.onProgress === undefined) return;
    const now = this.clock();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.onProgress(this.ledger.progress());
  }
  final(): void {
    this.onProgress?.(this.ledger.progress());
  }
}

/** Checks the target before anything is written; throws {@link TargetNotEmptyError}. */
export async function refuseNonEmpty(
  target: RestoreTarget,
  plan: readonly RestoreNamespace[],
  drop: boolean,
): Promise<void> {
  if (drop) return;
  const full: Record<string, number> = {};
  for (const ns of plan) {
    const n = await target.existingDocuments(ns.targetNs);
    if (n > 0) full[ns.targetNs] = n;
  }
  if (Object.keys(full).length > 0) throw new TargetNotEmptyError(full);
}

/**
 * Writes the planned namespaces of the snapshot into the target (module comment). The caller has checked the
 * target (`refuseNonEmpty`) and built the ledger; errors propagate as they are.
 */
export async function writeSnapshotNamespaces(
  request: RestoreSnapshotRequest,
  plan: readonly RestoreNamespace[],
  ledger: RestoreLedger,
  reporter: ProgressReporter,
): Promise<void> {
  const tuning = { ...DEFAULT_RESTORE_TUNING, ...request.tuning };
  const namespaceConcurrency = positiveInteger('namespaceConcurrency', tuning.namespaceConcurrency);
  const inserts = new Slots(positiveInteger('insertConcurrency', tuning.insertConcurrency));
  const batchDocuments = positiveInteger('batchDocuments', tuning.batchDocuments);
  const batchBytes = positiveInteger('batchBytes', tuning.batchBytes);
  const { target, signal } = request;
  const drop = request.drop ?? false;
  let failure: { error: unknown } | undefined;
  const check = () => {
    if (failure !== undefined) throw failure.error;
    if (signal?.aborted === true) throw new RestoreCancelledError(ledger.written());
  };

  const restoreOne = async (ns: RestoreNamespace): Promise<void> => {
    await target.prepare(ns, { drop });
    const pending = new Set<Promise<void>>();
    const send = async (batch: Uint8Array[], bytes: number) => {
      await inserts.acquire();
      try {
        check();
      } catch (error) {
        inserts.release();
        throw error;
      }
      const write = target
        .insert(ns, batch)
        .then(() => {
          ledger.wrote(ns.targetNs, batch.length, bytes);
          reporter.maybe();
        })
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => {
          inserts.release();
          pending.delete(write);
        });
      pending.add(write);
    };
    let batch: Uint8Array[] = [];
    let bytes = 0;
    try {
      for await (const doc of request.documents(ns.sourceNs)) {
        check();
        if (batch.length > 0 && (batch.length >= batchDocuments || bytes + doc.length > batchBytes)) {
          await send(batch, bytes);
          batch = [];
          bytes = 0;
        }
        batch.push(doc);
        bytes += doc.length;
      }
      if (batch.length > 0) await send(batch, bytes);
    } finally {
      // What is in flight settles before the restore reports what it wrote.
      await Promise.all(pending);
    }
    check();
    await target.finish(ns);
    ledger.finished(ns.targetNs);
    reporter.maybe();
  };

  const queue = [...plan];
  const worker = async () => {
    for (let ns = queue.shift(); ns !== undefined; ns = queue.shift()) {
      try {
        check();
        await restoreOne(ns);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(namespaceConcurrency, Math.max(plan.length, 1)) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Restores a snapshot into the target (module comment). */
export async function restoreSnapshot(request: RestoreSnapshotRequest): Promise<RestoreSnapshotResult> {
  const plan = planNamespaces(request.snapshot, request.selection ?? SELECT_ALL);
  await refuseNonEmpty(request.target, plan, request.drop ?? false);
  const ledger = new RestoreLedger(plan);
  const reporter = new ProgressReporter(
    ledger,
    request.onProgress,
    request.progressIntervalMs ?? 1000,
    request.clock ?? Date.now,
  );
  try {
    await request.target.begin(plan);
    await writeSnapshotNamespaces(request, plan, ledger, reporter);
    await request.target.end();
  } catch (error) {
    if (error instanceof RestoreCancelledError) throw error;
    throw new RestoreFailedError(ledger.written(), error);
  }
  reporter.final();
  return summarize(request.snapshot.snapshotId, plan, ledger);
}

export function summarize(
  snapshotId: string,
  plan: readonly RestoreNamespace[],
  ledger: RestoreLedger,
): RestoreSnapshotResult {
  const progress = ledger.progress();
  const namespaces: Record<string, NamespaceResult> = {};
  for (const ns of plan) {
    const p = progress.namespaces[ns.targetNs];
    namespaces[ns.targetNs] = { sourceNs: ns.sourceNs, documents: p?.documents ?? 0, bytes: p?.bytes ?? 0 };
  }
  return { snapshotId, namespaces, documents: ledger.documents, bytes: ledger.bytes, plan };
}
