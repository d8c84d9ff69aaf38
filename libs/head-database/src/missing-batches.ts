/**
 * The batches of `FETCH_MISSING_DOCUMENTS` commands: the missing ids of a sync grouped per source namespace, each
 * batch at most `maxIds` ids (1000) and about `maxBytes` of id text (so a command stays well inside the commands
 * topic's 1 MiB messages even with large `_id`s; a single larger id travels alone). Namespaces by name, ids by
 * their text: the same records always give the same batches, so a repeated request repeats the same commands.
 */
import type { MissingDocumentStore } from './ports';

export interface MissingBatchLimits {
  readonly maxIds: number;
  readonly maxBytes: number;
}

export const DEFAULT_MISSING_BATCH_LIMITS: MissingBatchLimits = Object.freeze({
  maxIds: 1000,
  maxBytes: 512 * 1024,
});

export interface MissingBatch {
  readonly ns: string;
  /** Canonical Extended JSON of each id. */
  readonly ids: readonly string[];
}

/** Streams the batches of a sync's missing documents (one batch in memory at a time). */
export async function* missingBatches(
  store: MissingDocumentStore,
  jobId: string,
  syncId: string,
  limits: MissingBatchLimits = DEFAULT_MISSING_BATCH_LIMITS,
): AsyncGenerator<MissingBatch> {
  for (const ns of await store.namespaces(jobId, syncId)) {
    let ids: string[] = [];
    let bytes = 0;
    for await (const id of store.ids(jobId, syncId, ns)) {
      const size = Buffer.byteLength(id, 'utf8') + 1;
      if (ids.length > 0 && (ids.length >= limits.maxIds || bytes + size > limits.maxBytes)) {
        yield { ns, ids };
        ids = [];
        bytes = 0;
      }
      ids.push(id);
      bytes += size;
    }
    if (ids.length > 0) yield { ns, ids };
  }
}

/** The ids of a batch as one canonical Extended JSON array (each id already is canonical text). */
export function idsArrayText(ids: readonly string[]): string {
  return `[${ids.join(',')}]`;
}
