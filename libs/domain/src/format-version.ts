/**
 * Format versions of stored records (docs/format.md, "Stored records"): the one rule every store follows.
 *
 * - Every document Tidemark stores carries its format version in the field {@link FORMAT_VERSION_FIELD} (`v`), a
 *   positive integer, written from the record's {@link RecordFormat}'s `current`.
 * - A reader checks the version first, before it interprets any other field, with {@link checkRecordVersion}: a
 *   version the build does not read throws {@link UnknownFormatVersionError} (not retriable). The record is never
 *   skipped, guessed at or rewritten.
 * - A document without the field was written before versions existed; it is read as version 1
 *   ({@link VERSION_WHEN_ABSENT}), which is the layout those builds wrote. Any other value (`null`, a string, a
 *   fraction, 0) is unknown.
 *
 * Kafka records are not versioned here: Avro single-object encoding already names the writer schema by its
 * fingerprint, which the bus's codec checks first (`SchemaMismatchError`).
 */
import { UnknownFormatVersionError } from './errors';

/** The field every stored document carries its format version in. One name everywhere. */
export const FORMAT_VERSION_FIELD = 'v';

/** A format version: a positive integer, incremented when a record's layout or meaning changes incompatibly. */
export type FormatVersion = number;

/** The version a document without {@link FORMAT_VERSION_FIELD} is read as: what was stored before versions. */
export const VERSION_WHEN_ABSENT: FormatVersion = 1;

/** One kind of stored record: what it is called in errors, the version this build writes and those it reads. */
export interface RecordFormat {
  /** What the record is, for messages (e.g. `oplog-store slice`). */
  readonly kind: string;
  /** The version this build writes. */
  readonly current: FormatVersion;
  /** Every version this build reads; includes `current`. */
  readonly reads: readonly FormatVersion[];
}

/** Declares a record format; `reads` defaults to `[current]`. */
export function recordFormat(
  kind: string,
  current: FormatVersion,
  reads: readonly FormatVersion[] = [current],
): RecordFormat {
  if (!isFormatVersion(current))
    throw new RangeError(`${kind}: format version ${current} is not a positive integer`);
  if (!reads.includes(current))
    throw new RangeError(`${kind}: reads [${reads.join(', ')}] omit current ${current}`);
  return Object.freeze({ kind, current, reads: Object.freeze([...reads]) });
}

function isFormatVersion(value: unknown): value is FormatVersion {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/**
 * Checks a version as found in a record against the versions this build reads, and returns it. `found` may be
 * `undefined` (the field is absent: {@link VERSION_WHEN_ABSENT}) or a `bigint` (a driver reading Int64 as
 * bigint). Throws {@link UnknownFormatVersionError} naming the record kind, the value found, the known versions
 * and `where` (collection and id) for anything else.
 */
export function checkFormatVersion(
  kind: string,
  found: unknown,
  known: readonly FormatVersion[],
  where?: string,
): FormatVersion {
  const version =
    found === undefined
      ? VERSION_WHEN_ABSENT
      : typeof found === 'bigint' && found > 0n && found <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(found)
        : found;
  if (isFormatVersion(version) && known.includes(version)) return version;
  throw new UnknownFormatVersionError({
    recordKind: kind,
    found,
    known,
    ...(where === undefined ? {} : { where }),
  });
}

/** The reader's first step: checks `record`'s {@link FORMAT_VERSION_FIELD} against `format.reads`. */
export function checkRecordVersion(format: RecordFormat, record: object, where?: string): FormatVersion {
  const found = (record as Readonly<Record<string, unknown>>)[FORMAT_VERSION_FIELD];
  return checkFormatVersion(format.kind, found, format.reads, where);
}

/** Where a stored document lives, for errors: `<database>.<collection> _id <id as JSON>`. */
export function documentLocation(database: string, collection: string, id: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(id) ?? String(id);
  } catch {
    shown = String(id);
  }
  return `${database}.${collection} _id ${shown}`;
}

/**
 * MongoDB query filters on {@link FORMAT_VERSION_FIELD} for stores that update documents in place or count them
 * without reading them (plain objects, so this module needs no driver):
 * - `readable` matches the documents this build reads (the field absent, or one of `format.reads`): an in-place
 *   update adds it to its filter so it never changes a document of an unknown version;
 * - `unreadable` matches every other document (the field present with any other value): a store that answers
 *   without reading documents (a count) first looks for one of these and refuses it with {@link checkRecordVersion}.
 */
export function versionFilters(format: RecordFormat): {
  readonly readable: Readonly<Record<string, unknown>>;
  readonly unreadable: Readonly<Record<string, unknown>>;
} {
  const reads = [...format.reads];
  return {
    readable: {
      $or: [{ [FORMAT_VERSION_FIELD]: { $exists: false } }, { [FORMAT_VERSION_FIELD]: { $in: reads } }],
    },
    unreadable: { [FORMAT_VERSION_FIELD]: { $exists: true, $nin: reads } },
  };
}
