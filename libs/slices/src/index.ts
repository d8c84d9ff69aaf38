/**
 * @tidemark/slices (type:domain): the slice format, in one place. Slice ids (`slice-ids.ts`, the one declaration of
 * their format), slice metadata built from an encoded payload (`slice-meta.ts`), the payload format (`payload.ts`:
 * compressed, checksummed BSON documents), the slicer that cuts a stream of documents into ~10 MiB slices, the
 * catalog slice that closes a transfer, and the claim check announcing a stored slice. The metadata record itself
 * and its rules (`SliceMeta`, `validateSliceMeta`) are vocabulary every stage shares, in @tidemark/domain
 * (slice.ts); the Kafka records and keys of slices are @tidemark/bus's (slice-mapping.ts, keys.ts).
 */
export * from './slice-ids';
export * from './slice-meta';
export * from './payload';
export * from './slicer';
export * from './catalog';
export * from './claim-check';
