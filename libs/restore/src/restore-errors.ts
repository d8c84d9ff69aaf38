/** The restore's errors. Each says what was written, so a user knows what the target holds. */
import { TidemarkError, describeError, formatOpTime, type OpTime } from '@tidemark/domain';

/** Target namespaces that already hold documents, and `--drop` was not given. Nothing was written. */
export class TargetNotEmptyError extends TidemarkError {
  override readonly name: string = 'TargetNotEmptyError';
  constructor(readonly namespaces: Readonly<Record<string, number>>) {
    super(
      `the target already holds documents in ${Object.entries(namespaces)
        .map(([ns, n]) => `${ns} (${n})`)
        .join(', ')}; nothing was written. Restore elsewhere, or pass --drop to replace them`,
      { retriable: false },
    );
  }
}

/** What a restore had written when it stopped. */
export interface WrittenSoFar {
  readonly documents: number;
  /** Target namespaces with documents written, and how many. */
  readonly namespaces: Readonly<Record<string, number>>;
  /** Namespaces complete (documents and indexes). */
  readonly finished: readonly string[];
  /** Oplog entries replayed. */
  readonly entries: number;
  /** The last replayed position, when any was. */
  readonly replayedTo?: OpTime;
}

export function describeWritten(w: WrittenSoFar): string {
  const partial = Object.entries(w.namespaces).filter(([ns]) => !w.finished.includes(ns));
  const parts = [
    `${w.documents} documents written`,
    w.finished.length > 0 ? `complete: ${w.finished.join(', ')}` : 'no namespace complete',
    ...(partial.length > 0 ? [`partly written: ${partial.map(([ns, n]) => `${ns} (${n})`).join(', ')}`] : []),
    ...(w.replayedTo === undefined
      ? []
      : [`oplog replayed to ${formatOpTime(w.replayedTo)} (${w.entries} entries)`]),
  ];
  return parts.join('; ');
}

/** A restore stopped part way: the cause, and what the target holds now. Retriable as its cause. */
export class RestoreFailedError extends TidemarkError {
  override readonly name: string = 'RestoreFailedError';
  constructor(
    readonly written: WrittenSoFar,
    cause: unknown,
  ) {
    super(`restore failed: ${describeError(cause)}. ${describeWritten(written)}`, {
      retriable: cause instanceof TidemarkError ? cause.retriable : false,
      cause,
    });
  }
}

/** The restore was cancelled. */
export class RestoreCancelledError extends TidemarkError {
  override readonly name: string = 'RestoreCancelledError';
  constructor(readonly written: WrittenSoFar) {
    super(`restore cancelled. ${describeWritten(written)}`, { retriable: false });
  }
}
