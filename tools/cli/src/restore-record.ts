/**
 * A CLI restore as job-state records it (docs/api.md, "Restores"): registered before anything is written, its
 * progress reported (at most once per `intervalMs` when it changed, and at least every `heartbeatMs` even when it
 * did not, so job-state knows the process lives), job-state asked on the same beat whether a user asked to cancel
 * it (then `signal` aborts, and the restore stops between batches) or whether it recorded the restore ended while
 * this process was cut off (abandoned: then `signal` aborts too, and nothing more is reported), and finished
 * complete, failed or cancelled with the reason. Reports and polls that fail do not stop the restore (a warning says so once);
 * the finish is retried a few times, and a finish that cannot be recorded is reported on stderr.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_PROGRESS, RESTORE_HEARTBEAT_MS, type RestoreView } from '@tidemark/jobs';
import { RestoreCancelledError, type RestoreProgress } from '@tidemark/restore';
import type {
  BeginRestoreRequest,
  FinishRestoreRequest,
  JobApiClient,
  RestoreProgressReport,
} from './job-api-client';

/** The part of job-state's API a recorded restore uses. */
export type RestoreRecordApi = Pick<
  JobApiClient,
  'beginRestore' | 'reportRestoreProgress' | 'finishRestore' | 'getRestore'
>;

/** How the restore ended, as `runRestore` said it. */
export interface RestoreEnd {
  readonly snapshotId: string;
  readonly at: { readonly opTime: string; readonly wallTime: string | null };
  readonly namespaces: Record<string, { documents: number; bytes: number }>;
  readonly documents: number;
  readonly bytes: number;
  readonly entries: number;
}

const FINISH_ATTEMPTS = 3;

export function progressReport(p: RestoreProgress): RestoreProgressReport {
  return {
    documents: p.documents,
    bytes: p.bytes,
    entries: p.entries,
    namespaces: Object.fromEntries(
      Object.entries(p.namespaces).map(([ns, n]) => [ns, { documents: n.documents, done: n.done }]),
    ),
  };
}

export class RestoreRecord {
  private readonly controller = new AbortController();
  private latest: RestoreProgressReport | undefined;
  private reported = '';
  private reportedAt = Date.now();
  /** job-state recorded the restore ended (abandoned) while this process ran: its view then. */
  private endedElsewhere: RestoreView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beat: Promise<void> = Promise.resolve();
  private warned = false;

  private constructor(
    private readonly api: RestoreRecordApi,
    readonly view: RestoreView,
    private readonly warn: (line: string) => void,
    private readonly intervalMs: number,
    private readonly heartbeatMs: number,
  ) {}

  /** Registers the restore; throws (nothing written yet) when job-state refuses it or cannot be reached. */
  static async begin(
    api: RestoreRecordApi,
    request: BeginRestoreRequest,
    options: { warn?: (line: string) => void; intervalMs?: number; heartbeatMs?: number } = {},
  ): Promise<RestoreRecord> {
    const view = await api.beginRestore(request);
    const record = new RestoreRecord(
      api,
      view,
      options.warn ?? ((line) => process.stderr.write(`${line}\n`)),
      options.intervalMs ?? 1000,
      options.heartbeatMs ?? RESTORE_HEARTBEAT_MS,
    );
    record.timer = setInterval(() => {
      record.beat = record.beat.then(() => record.report());
    }, record.intervalMs);
    record.timer.unref(); // the restore keeps the process alive, not its reports
    return record;
  }

  get id(): string {
    return this.view.id;
  }

  /** Whether job-state recorded the restore ended (abandoned) while this process was still running it. */
  get abandoned(): boolean {
    return this.endedElsewhere !== undefined;
  }

  /** Aborted once a user asked job-state to cancel the restore, or job-state recorded it ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The restore's progress callback: keeps the newest; the next beat reports it. */
  readonly onProgress = (p: RestoreProgress): void => {
    this.latest = progressReport(p);
  };

  /** Records the end: complete with `end`, or cancelled / failed with the error's message. */
  async finish(result: { end: RestoreEnd } | { error: unknown }): Promise<RestoreView | undefined> {
    clearInterval(this.timer);
    await this.beat;
    if (this.endedElsewhere !== undefined) return this.endedElsewhere;
    let request: FinishRestoreRequest;
    if ('end' in result) {
      const e = result.end;
      request = {
        state: 'complete',
        snapshotId: e.snapshotId,
        at: e.at,
        progress: {
          documents: e.documents,
          bytes: e.bytes,
          entries: e.entries,
          namespaces: {
            ...this.latest?.namespaces,
            ...Object.fromEntries(
              Object.entries(e.namespaces).map(([ns, n]) => [ns, { documents: n.documents, done: true }]),
            ),
          },
        },
      };
    } else {
      const cancelled = result.error instanceof RestoreCancelledError;
      request = {
        state: cancelled ? 'cancelled' : 'failed',
        reason: result.error instanceof Error ? result.error.message : String(result.error),
        ...(this.latest === undefined ? {} : { progress: this.latest }),
      };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.api.finishRestore(this.id, request);
      } catch (err) {
        if (attempt >= FINISH_ATTEMPTS) {
          this.warn(
            `restore ${this.id}: could not record that it ended ${request.state} in job-state ` +
              `(${err instanceof Error ? err.message : String(err)})`,
          );
          return undefined;
        }
        await sleep(500 * attempt);
      }
    }
  }

  /**
   * One beat: ask whether job-state already recorded the restore ended or the user wants it cancelled, then report
   * new progress (or the same, once a heartbeat is due).
   */
  private async report(): Promise<void> {
    if (this.endedElsewhere !== undefined) return;
    try {
      // The record first: a report to a restore job-state has ended would only be refused.
      const view = await this.api.getRestore(this.id);
      if (view.state !== 'running') {
        this.endedElsewhere = view;
        this.warn(
          `restore ${this.id}: job-state recorded it ${view.state}${view.reason ? ` (${view.reason})` : ''}; ` +
            'stopping after the current batch',
        );
        this.controller.abort();
        return;
      }
      if (view.cancelRequested && !this.controller.signal.aborted) {
        this.warn(`restore ${this.id}: cancel requested; stopping after the current batch`);
        this.controller.abort();
      }
      const latest = this.latest;
      const text = latest === undefined ? '' : JSON.stringify(latest);
      const now = Date.now();
      if ((latest !== undefined && text !== this.reported) || now - this.reportedAt >= this.heartbeatMs) {
        await this.api.reportRestoreProgress(this.id, latest ?? NO_PROGRESS);
        this.reported = text;
        this.reportedAt = now;
      }
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        this.warn(
          `restore ${this.id}: job-state did not take a progress report or cancel check ` +
            `(${err instanceof Error ? err.message : String(err)}); the restore goes on`,
        );
      }
    }
  }
}
