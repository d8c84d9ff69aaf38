/**
 * Reads the `.avsc` files of the workspace's `schemas/` folder.
 *
 * Layout (one record per file, file name = record name, Avro namespace = `tidemark.<area>`):
 * ```
 * schemas/<area>/<Record>.avsc                   the current version of the record
 * schemas/<area>/history/<Record>.v<N>.avsc      every earlier version N, never edited again
 * schemas/<area>/fixtures/<Record>.v<N>.json     a golden sample value per version (see fixture-json.ts)
 * ```
 * The current version's number is one more than the highest history version (1 when there is no history).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SchemaDefinitionError } from './bus-errors';

/** One version of one record schema, as read from disk. */
export interface SchemaSource {
  /** Full name, e.g. `tidemark.phases.PhaseChanged`. */
  readonly record: string;
  /** 1-based version number. */
  readonly version: number;
  /** True for the version readers resolve to. */
  readonly current: boolean;
  /** The parsed `.avsc` JSON. */
  readonly schema: unknown;
  /** Where it came from (a path, or a label in tests), for error messages. */
  readonly origin: string;
}

/** `$TIDEMARK_SCHEMAS_DIR`, else the workspace's `schemas/` folder (located from this file). */
export function defaultSchemasDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['TIDEMARK_SCHEMAS_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.resolve(__dirname, '..', '..', '..', 'schemas');
}

const HISTORY_FILE = /^([A-Za-z_][A-Za-z0-9_]*)\.v([1-9][0-9]*)\.avsc$/;
const CURRENT_FILE = /^([A-Za-z_][A-Za-z0-9_]*)\.avsc$/;

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new SchemaDefinitionError(file, `cannot read schema: ${(err as Error).message}`, { cause: err });
  }
}

function checkNames(file: string, schema: unknown, area: string, recordName: string): string {
  const s = schema as { type?: unknown; name?: unknown; namespace?: unknown };
  if (s.type !== 'record') throw new SchemaDefinitionError(file, `top-level type must be "record"`);
  if (s.name !== recordName) {
    throw new SchemaDefinitionError(
      file,
      `record name ${String(s.name)} must match the file name ${recordName}`,
    );
  }
  if (s.namespace !== `tidemark.${area}`) {
    throw new SchemaDefinitionError(
      file,
      `namespace must be "tidemark.${area}", found ${String(s.namespace)}`,
    );
  }
  return `tidemark.${area}.${recordName}`;
}

/** Every version of every record under `dir`, current and historical. */
export function readSchemaSources(dir: string = defaultSchemasDir()): SchemaSource[] {
  if (!fs.existsSync(dir)) throw new SchemaDefinitionError(dir, 'schemas folder not found');
  const sources: SchemaSource[] = [];
  const areas = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  for (const area of areas) {
    const areaDir = path.join(dir, area);
    const history = new Map<string, number[]>();
    const historyDir = path.join(areaDir, 'history');
    if (fs.existsSync(historyDir)) {
      for (const name of fs.readdirSync(historyDir).sort()) {
        const file = path.join(historyDir, name);
        const m = HISTORY_FILE.exec(name);
        if (m === null) throw new SchemaDefinitionError(file, `history files are named <Record>.v<N>.avsc`);
        const [, recordName = '', v = ''] = m;
        const schema = readJson(file);
        const record = checkNames(file, schema, area, recordName);
        sources.push({ record, version: Number(v), current: false, schema, origin: file });
        history.set(recordName, [...(history.get(recordName) ?? []), Number(v)]);
      }
    }
    for (const name of fs.readdirSync(areaDir).sort()) {
      const m = CURRENT_FILE.exec(name);
      if (m === null) continue;
      const file = path.join(areaDir, name);
      const [, recordName = ''] = m;
      const schema = readJson(file);
      const record = checkNames(file, schema, area, recordName);
      const version = Math.max(0, ...(history.get(recordName) ?? [])) + 1;
      sources.push({ record, version, current: true, schema, origin: file });
      history.delete(recordName);
    }
    for (const orphan of history.keys()) {
      throw new SchemaDefinitionError(historyDir, `history of ${orphan} without a current ${orphan}.avsc`);
    }
  }
  return sources;
}

/** Path of the golden fixture of a record version: `schemas/<area>/fixtures/<Record>.v<N>.json`. */
export function fixturePath(dir: string, record: string, version: number): string {
  const parts = record.split('.');
  const recordName = parts[parts.length - 1] ?? record;
  const area = parts[parts.length - 2] ?? '';
  return path.join(dir, area, 'fixtures', `${recordName}.v${version}.json`);
}
