/**
 * The minimal reading of a raw oplog entry the tail needs: its position `ts`, operation `op` and namespace `ns`,
 * plus where its `o` document lies. The rest of the entry is never decoded; the entry travels as the source's bytes
 * (but for an `applyOps` array a job keeps only part of: `selectOplogEntry`).
 */
import type { OpTime } from '@tidemark/domain';
import { BSON_TYPE, stringValue, topLevelElements } from './raw-bson';
import { MalformedSourceDocumentError } from './source-error';

/** What the tail reads of each entry. */
export interface OplogEntryHeader {
  readonly ts: OpTime;
  /** `i`, `u`, `d`, `n` or `c` (anything else is passed on; the applier decides). */
  readonly op: string;
  /** `db.collection`, `db.$cmd` for commands, `""` for most no-ops. */
  readonly ns: string;
  /** Bytes `[start, end)` of the `o` document within the entry, when it has one. */
  readonly o: { readonly start: number; readonly end: number } | undefined;
}

/** Reads `ts`, `op`, `ns` and the position of `o`. Throws {@link MalformedSourceDocumentError} without `ts`/`op`. */
export function readOplogEntryHeader(raw: Buffer): OplogEntryHeader {
  let ts: OpTime | undefined;
  let op: string | undefined;
  let ns = '';
  let o: { start: number; end: number } | undefined;
  for (const element of topLevelElements(raw)) {
    if (element.name === 'ts' && element.type === BSON_TYPE.timestamp) {
      // BSON timestamp: uint32 increment, then uint32 seconds (little-endian).
      ts = { t: raw.readUInt32LE(element.start + 4), i: raw.readUInt32LE(element.start) };
    } else if (element.name === 'op' && element.type === BSON_TYPE.string) {
      op = stringValue(raw, element);
    } else if (element.name === 'ns' && element.type === BSON_TYPE.string) {
      ns = stringValue(raw, element);
    } else if (element.name === 'o' && element.type === BSON_TYPE.document) {
      o = { start: element.start, end: element.end };
    }
  }
  if (ts === undefined) throw new MalformedSourceDocumentError('oplog entry has no BSON timestamp "ts"');
  if (op === undefined) throw new MalformedSourceDocumentError('oplog entry has no string "op"');
  return { ts, op, ns, o };
}
