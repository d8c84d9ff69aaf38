/**
 * The source deployment behind one connected client: the functions of this library bound to it, as the agent's
 * `SourceReader` port (`@tidemark/capture`), which the agent app wires it into.
 */
import type { MongoClient } from 'mongodb';
import type { SourceReader } from '@tidemark/capture';
import type { NamespaceFilters, OpTime } from '@tidemark/domain';
import { fetchDocumentsById } from './fetch-documents';
import { listSourceNamespaces, type SourceNamespace } from './list-source-namespaces';
import { latestOplogTs } from './oplog-bounds';
import { OplogTail, type OplogBatch, type OplogTailOptions } from './oplog-tail';
import { scanCollection, type ScanOptions } from './scan-collection';
import { recommendedTailSettings, sourceInfo, type SourceInfo } from './source-info';
import type { SourceErrorClassifier } from './source-error';

/** Options of {@link MongoSource.tail}. */
export type TailOptions = Omit<OplogTailOptions, 'jobId' | 'prevTs' | 'filters' | 'signal' | 'classifyError'>;

export class MongoSource implements SourceReader {
  private infoOnce: Promise<SourceInfo> | undefined;

  /**
   * `classifyError` decides which driver failures are retriable (pass `classifyMongoError`); `tail` options apply
   * to every tail, `mode` and `stabilityDelayMs` defaulting to the server's `recommendedTailSettings` (tailable
   * and 0 for MongoDB, poll and 5 s for FerretDB).
   */
  constructor(
    readonly client: MongoClient,
    private readonly options: { readonly classifyError: SourceErrorClassifier; readonly tail?: TailOptions },
  ) {}

  /** Server facts, read once per instance (a failed read is retried on the next call). */
  info(): Promise<SourceInfo> {
    this.infoOnce ??= sourceInfo(this.client, this.options.classifyError).catch((err: unknown) => {
      this.infoOnce = undefined;
      throw err;
    });
    return this.infoOnce;
  }

  latestOplogTs(): Promise<OpTime | undefined> {
    return latestOplogTs(this.client, this.options.classifyError);
  }

  listNamespaces(filters: NamespaceFilters): Promise<SourceNamespace[]> {
    return listSourceNamespaces(this.client, filters, this.options.classifyError);
  }

  scan(ns: string, options: ScanOptions = {}): AsyncIterable<Buffer> {
    return scanCollection(this.client, ns, { ...options, classifyError: this.options.classifyError });
  }

  /** The oplog after `prevTs` (exclusive), gap-checked: see {@link OplogTail}. */
  async *tail(
    jobId: string,
    prevTs: OpTime,
    filters: NamespaceFilters,
    signal?: AbortSignal,
  ): AsyncGenerator<OplogBatch, void, undefined> {
    const recommended = recommendedTailSettings(await this.info());
    yield* new OplogTail(this.client, {
      ...recommended,
      ...this.options.tail,
      classifyError: this.options.classifyError,
      jobId,
      prevTs,
      filters,
      signal,
    });
  }

  fetchByIds(ns: string, ids: readonly unknown[]): AsyncIterable<Buffer> {
    return fetchDocumentsById(this.client, ns, ids, this.options.classifyError);
  }
}
