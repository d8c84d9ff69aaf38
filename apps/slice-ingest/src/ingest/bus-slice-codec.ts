/**
 * The ingestor's `SliceRecordCodec` port over the bus: Avro single-object decoding of `SliceProduced`, the bus's
 * slice mapping and its key formatters (one declaration of each format, in `@tidemark/bus`).
 */
import {
  defaultCodec,
  jobKey,
  jobNamespaceKey,
  KEY_SEPARATOR,
  parseJobNamespaceKey,
  sliceMetaFromProduced,
  type AvroCodec,
  type SliceProduced,
} from '@tidemark/bus';
import type { SliceRecordCodec } from '@tidemark/ingest';

export function busSliceCodec(codec: AvroCodec = defaultCodec()): SliceRecordCodec<SliceProduced> {
  return {
    decode: (value, source) => codec.decodeAs('tidemark.slices.SliceProduced', value, source),
    metaOf: sliceMetaFromProduced,
    keyOf: (meta) =>
      meta.kind === 'initial' ? jobNamespaceKey(meta.jobId, meta.namespace) : jobKey(meta.jobId),
    jobIdOfKey: (key) => {
      if (!key.includes(KEY_SEPARATOR)) return key === '' ? undefined : key;
      try {
        return parseJobNamespaceKey(key).jobId;
      } catch {
        return undefined; // not a well-formed key: the alert then names no job
      }
    },
  };
}
