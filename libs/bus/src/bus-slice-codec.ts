/**
 * The ingestor's `SliceRecordCodec` port over the bus: Avro single-object decoding of `SliceProduced`, the bus's
 * slice mapping and its key formatters (one declaration of each format, in `@tidemark/bus`).
 */
import { defaultCodec, type AvroCodec } from './codec';
import { jobIdOfKey, sliceKey } from './keys';
import { sliceMetaFromProduced } from './slice-mapping';
import type { SliceProduced } from './types';
import type { SliceRecordCodec } from '@tidemark/ingest';

export function busSliceCodec(codec: AvroCodec = defaultCodec()): SliceRecordCodec<SliceProduced> {
  return {
    decode: (value, source) => codec.decodeAs('tidemark.slices.SliceProduced', value, source),
    metaOf: sliceMetaFromProduced,
    keyOf: (meta) => sliceKey(meta.jobId, meta.kind === 'initial' ? meta.namespace : null),
    // A key that is not well formed gives no job id: the alert then names no job.
    jobIdOfKey,
  };
}
