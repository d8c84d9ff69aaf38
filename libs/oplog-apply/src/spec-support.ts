/**
 * Helpers for this library's specs (not exported): loading oplog fixtures, replaying them into a
 * `MemoryApplyTarget`, and comparing state exactly (field order and BSON types included).
 *
 * A fixture is `src/fixtures/<case>.json`: `{ "description": "...", "entries": [ <oplog entries> ] }`, in
 * MongoDB Extended JSON v2, parsed with `EJSON.parse(text, { relaxed: false })` (so a plain JSON integer is an
 * Int32 and a plain decimal a Double, as `mongoexport --jsonFormat=canonical` would write them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EJSON } from 'bson';
import type { Document } from 'bson';
import { OplogApplier } from './applier';
import type { ApplyResult, OplogApplierOptions } from './applier';
import { MemoryApplyTarget } from './memory-target';

export interface Fixture {
  readonly description: string;
  readonly entries: readonly Document[];
}

/** Parses Extended JSON v2 text as the fixtures are parsed. */
export function ejson(text: string): Document {
  return EJSON.parse(text, { relaxed: false }) as Document;
}

/** Canonical Extended JSON of a value: equal strings mean equal values, types and field order. */
export function canonical(value: unknown): string {
  return EJSON.stringify(value, { relaxed: false });
}

export function loadFixture(name: string): Fixture {
  const text = readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8');
  const parsed = EJSON.parse(text, { relaxed: false }) as { description?: unknown; entries?: unknown };
  assert.equal(typeof parsed.description, 'string', `fixture ${name} needs a description`);
  assert.ok(Array.isArray(parsed.entries), `fixture ${name} needs an entries array`);
  return { description: parsed.description as string, entries: parsed.entries as Document[] };
}

export interface Replay {
  readonly target: MemoryApplyTarget;
  readonly applier: OplogApplier;
  readonly results: ApplyResult[];
}

/** Applies entries in order (all of them, or those `select` picks) to a new or given memory target. */
export async function replay(
  entries: readonly Document[],
  options: OplogApplierOptions & { target?: MemoryApplyTarget; applier?: OplogApplier } = {},
): Promise<Replay> {
  const target = options.target ?? new MemoryApplyTarget();
  const applier = options.applier ?? new OplogApplier(target, options);
  const results: ApplyResult[] = [];
  for (const entry of entries) results.push(await applier.applyEntry(entry));
  return { target, applier, results };
}

/** Asserts the documents of `ns`, in storage order, equal `expected` (Extended JSON text) exactly. */
export function assertDocuments(target: MemoryApplyTarget, ns: string, expected: string): void {
  assert.equal(
    canonical(target.documents(ns)),
    canonical(ejson(`{"docs": ${expected}}`)['docs']),
    `documents of ${ns}:\n${EJSON.stringify(target.documents(ns), { relaxed: true })}`,
  );
}

/** Asserts the index specifications of `ns`, in creation order, equal `expected` (Extended JSON text) exactly. */
export function assertIndexes(target: MemoryApplyTarget, ns: string, expected: string): void {
  assert.equal(
    canonical(target.indexes(ns)),
    canonical(ejson(`{"indexes": ${expected}}`)['indexes']),
    `indexes of ${ns}:\n${EJSON.stringify(target.indexes(ns), { relaxed: true })}`,
  );
}

/** A target's whole state in a comparable form: document and index order ignored, field order kept. */
export function stateOf(target: MemoryApplyTarget): string {
  const state: Document = {};
  for (const ns of target.namespaces()) {
    state[ns] = {
      options: target.collectionOptions(ns),
      documents: target
        .documents(ns)
        .map((doc) => canonical(doc))
        .sort(),
      indexes: target
        .indexes(ns)
        .map((spec) => canonical(spec))
        .sort(),
    };
  }
  return canonical(state);
}

/** The outcomes of a replay, in order. */
export function outcomes(results: readonly ApplyResult[]): string[] {
  return results.map((result) => result.outcome);
}
