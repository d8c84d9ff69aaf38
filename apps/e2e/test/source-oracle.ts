/**
 * The oracle of the snapshot and restore end-to-end specs: the source's own oplog, read back and replayed. The state
 * of a namespace at position P is its documents as loaded (before the source's oplog existed) with the namespace's
 * oplog entries up to P applied in order (FerretDB's `u` entries are whole replacements).
 */
import assert from 'node:assert/strict';
import { BSON, type Document, type MongoClient } from 'mongodb';

/** Canonical Extended JSON of raw BSON, numbers' types kept: what "equal" means here. */
export const canonical = (doc: Document): string => BSON.EJSON.stringify(doc, { relaxed: false });
export const parse = (bytes: Uint8Array): Document => BSON.deserialize(bytes, { promoteValues: false });

export interface OplogEntry {
  readonly t: number;
  readonly i: number;
  readonly op: string;
  readonly ns: string;
  readonly o: Document;
  readonly o2?: Document;
  readonly wall?: Date;
}

export const atOrBefore = (e: OplogEntry, at: { t: number; i: number }) =>
  e.t < at.t || (e.t === at.t && e.i <= at.i);

/**
 * The namespace's documents at position (t, i): `initial` with every entry of the namespace up to it applied (but
 * `skip`, if given), keyed by the canonical `_id`, as canonical Extended JSON. FerretDB logs every update as
 * `{ $v: 1, $set: <the whole new document> }`: a replacement.
 */
export function stateAt(
  initial: ReadonlyMap<string, string>,
  oplog: readonly OplogEntry[],
  ns: string,
  at: { t: number; i: number },
  skip?: OplogEntry,
): Map<string, string> {
  const docs = new Map(initial);
  for (const e of oplog) {
    if (!atOrBefore(e, at)) break;
    if (e.ns !== ns || e === skip) continue;
    if (e.op === 'i') docs.set(canonical({ _id: e.o['_id'] }), canonical(e.o));
    else if (e.op === 'd') docs.delete(canonical({ _id: e.o['_id'] }));
    else if (e.op === 'u') {
      const whole = (e.o['$set'] ?? e.o) as Document;
      const operators = Object.keys(e.o).filter((k) => k.startsWith('$') && k !== '$v' && k !== '$set');
      assert.ok(
        operators.length === 0 && Object.keys(whole).every((k) => !k.startsWith('$')) && '_id' in whole,
        `not a whole-document update: ${canonical(e.o)}`,
      );
      assert.equal(
        canonical({ _id: whole['_id'] }),
        canonical({ _id: e.o2?.['_id'] }),
        'o2._id is not o._id',
      );
      docs.set(canonical({ _id: whole['_id'] }), canonical(whole));
    } else assert.fail(`unexpected oplog entry ${e.op} on ${e.ns}`);
  }
  return docs;
}

/** Ids whose documents differ (or that only one side has). */
export function differences(
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
): string[] {
  return [...new Set([...expected.keys(), ...actual.keys()])].filter(
    (id) => expected.get(id) !== actual.get(id),
  );
}

/** The source's oplog entries of `namespaces`, in position order, with their wall times. */
export async function sourceOplog(client: MongoClient, namespaces: readonly string[]): Promise<OplogEntry[]> {
  return (
    await client
      .db('local')
      .collection('oplog.rs')
      .find({ ns: { $in: namespaces } }, { raw: true })
      .toArray()
  )
    .map((bytes) => parse(bytes as unknown as Uint8Array))
    .map((e) => ({
      t: (e['ts'] as BSON.Timestamp).t,
      i: (e['ts'] as BSON.Timestamp).i,
      op: String(e['op']),
      ns: String(e['ns']),
      o: e['o'] as Document,
      ...(e['o2'] === undefined ? {} : { o2: e['o2'] as Document }),
      ...(e['wall'] instanceof Date ? { wall: e['wall'] } : {}),
    }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
}

/** A namespace's documents as the oracle keys them: canonical `_id` to canonical document. */
export async function namespaceState(client: MongoClient, ns: string): Promise<Map<string, string>> {
  const dot = ns.indexOf('.');
  const raw = await client
    .db(ns.slice(0, dot))
    .collection(ns.slice(dot + 1))
    .find({}, { raw: true })
    .toArray();
  const docs = raw.map((bytes) => parse(bytes as unknown as Uint8Array));
  return new Map(docs.map((d) => [canonical({ _id: d['_id'] }), canonical(d)]));
}
