/**
 * The manifest's serialized form and checksum (docs/format.md, "Snapshot manifest").
 *
 * The manifest is written as **canonical JSON**: UTF-8, no whitespace, object members sorted by key (UTF-16 code
 * units, as RFC 8785), strings and numbers as ECMAScript's `JSON.stringify` writes them, absent optional fields
 * omitted (never `null`). Two exceptions keep MongoDB's order, which is meaningful there (an index key `{a: 1, b: -1}`
 * is not `{b: -1, a: 1}`): the value of a namespace's `options` and each element of its `indexes` are written with
 * their members in their own order, at every depth. Dates are ISO 8601 UTC with milliseconds
 * (`2026-12-03T11:00:00.000Z`); oplog positions are `"<t>:<i>"` strings (the form positions take in text everywhere
 * in Tidemark, and one that cannot lose precision in any JSON reader).
 *
 * `checksum` is the SHA-256 (hex) of the canonical JSON of the manifest without its `checksum` member. The serialized
 * form carries it; a reader re-canonicalizes what it parsed (minus `checksum`) and compares.
 */
import {
  InvalidOpTimeError,
  UnknownFormatVersionError,
  formatOpTime,
  parseOpTime,
  showValue,
  type OpTime,
} from '@tidemark/domain';
import { sha256Hex } from '@tidemark/util';
import { isBlockAddress } from './block-codec';
import {
  MANIFEST_FORMAT,
  READABLE_MANIFEST_FORMATS,
  type BlockCodec,
  type ChunkRef,
  type IndexSpec,
  type NamespaceManifest,
  type SnapshotManifest,
} from './manifest';
import { ManifestInvalidError } from './snapshot-errors';
import { STORE_KINDS, type StoreKind } from './snapshot-store';

const CODECS: readonly BlockCodec[] = ['brotli', 'gzip', 'zstd', 'none'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical JSON text of a JSON value; `keepOrder` writes object members in their own order (MongoDB documents). */
function canonical(value: Json, keepOrder: boolean): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, keepOrder)).join(',')}]`;
  const keys = Object.keys(value);
  if (!keepOrder) keys.sort(compareKeys);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json, keepOrder)}`).join(',')}}`;
}

/** The members whose values keep their order: a namespace's `options` and `indexes`. */
const ORDERED_MEMBERS = new Set(['options', 'indexes']);

function canonicalManifest(form: Record<string, Json>): string {
  const namespaces = form['namespaces'] as Array<Record<string, Json>>;
  const top = Object.keys(form).sort(compareKeys);
  const member = (k: string, v: Json, ordered: boolean) => `${JSON.stringify(k)}:${canonical(v, ordered)}`;
  const writeNamespace = (ns: Record<string, Json>) =>
    `{${Object.keys(ns)
      .sort(compareKeys)
      .map((k) => member(k, ns[k] as Json, ORDERED_MEMBERS.has(k)))
      .join(',')}}`;
  return `{${top
    .map((k) =>
      k === 'namespaces'
        ? `"namespaces":[${namespaces.map(writeNamespace).join(',')}]`
        : member(k, form[k] as Json, false),
    )
    .join(',')}}`;
}

/**
 * Throws {@link ManifestInvalidError} naming the path of the first value in `value` that plain JSON cannot hold
 * (a BSON type, a `Date`, `NaN`, ...): collection options and index specs must come as (canonical) Extended JSON.
 */
export function assertPlainJson(value: unknown, path: string): void {
  plainJson(value, path);
}

/** Copies a MongoDB-document-like value as plain JSON, or throws naming the path of a value JSON cannot hold. */
function plainJson(value: unknown, path: string): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new ManifestInvalidError([`${path}: ${value} has no JSON form`]);
  }
  if (Array.isArray(value)) return value.map((v, k) => plainJson(v, `${path}[${k}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainJson(v, `${path}.${k}`);
    return out;
  }
  throw new ManifestInvalidError([
    `${path}: a ${describeType(value)} is not plain JSON (give options and indexes as Extended JSON)`,
  ]);
}

function describeType(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** The manifest as its JSON form (dates and positions as strings), `checksum` included when present. */
function toJsonForm(manifest: SnapshotManifest): Record<string, Json> {
  const form: Record<string, Json> = {
    format: manifest.format,
    jobId: manifest.jobId,
    syncId: manifest.syncId,
    snapshotId: manifest.snapshotId,
    opTime: formatOpTime(manifest.opTime),
    takenAt: manifest.takenAt.toISOString(),
    store: manifest.store,
    codec: manifest.codec,
    chunking: {
      algorithm: manifest.chunking.algorithm,
      minSize: manifest.chunking.minSize,
      avgSize: manifest.chunking.avgSize,
      maxSize: manifest.chunking.maxSize,
      ...(manifest.chunking.normalization === undefined
        ? {}
        : { normalization: manifest.chunking.normalization }),
    },
    namespaces: manifest.namespaces.map((ns, k) => ({
      namespace: ns.namespace,
      documentCount: ns.documentCount,
      logicalBytes: ns.logicalBytes,
      contentHash: ns.contentHash,
      options: plainJson(ns.options, `namespaces[${k}].options`),
      indexes: ns.indexes.map((ix, j) => plainJson(ix, `namespaces[${k}].indexes[${j}]`)),
      chunks: ns.chunks.map((c) => ({
        address: c.address,
        length: c.length,
        ...(c.storedLength === undefined ? {} : { storedLength: c.storedLength }),
        ...(c.base === undefined ? {} : { base: c.base }),
        ...(c.baseStoredLength === undefined ? {} : { baseStoredLength: c.baseStoredLength }),
      })),
    })),
    logicalBytes: manifest.logicalBytes,
    storedBytes: manifest.storedBytes,
    referencedBytes: manifest.referencedBytes,
  };
  if (manifest.opWallTime !== undefined) form['opWallTime'] = manifest.opWallTime.toISOString();
  if (manifest.completedAt !== undefined) form['completedAt'] = manifest.completedAt.toISOString();
  if (manifest.encryption !== undefined) {
    form['encryption'] = { algorithm: manifest.encryption.algorithm, keyId: manifest.encryption.keyId };
  }
  if (manifest.checksum !== undefined) form['checksum'] = manifest.checksum;
  return form;
}

/** SHA-256 (hex) of the manifest's canonical JSON without `checksum`. */
export function manifestChecksum(manifest: SnapshotManifest): string {
  const form = toJsonForm(manifest);
  delete form['checksum'];
  return sha256Hex(Buffer.from(canonicalManifest(form), 'utf8'));
}

/** The manifest with its checksum set (replacing any there was). */
export function sealManifest(manifest: SnapshotManifest): SnapshotManifest {
  const { checksum: _ignored, ...rest } = manifest;
  return { ...rest, checksum: manifestChecksum(rest) };
}

/** Problems of a manifest's checksum: absent, or not the manifest's (empty when it checks). */
export function manifestChecksumProblems(manifest: SnapshotManifest): string[] {
  if (manifest.checksum === undefined) return ['checksum: missing'];
  const actual = manifestChecksum(manifest);
  return actual === manifest.checksum
    ? []
    : [`checksum: manifest hashes to ${actual}, not ${manifest.checksum}`];
}

/** The serialized manifest: canonical JSON with `checksum` (computed here; a wrong one given is refused). */
export function encodeManifest(manifest: SnapshotManifest): string {
  const problems = validateManifest(manifest);
  if (manifest.checksum !== undefined) problems.push(...manifestChecksumProblems(manifest));
  if (problems.length > 0) throw new ManifestInvalidError(problems, { snapshotId: manifest.snapshotId });
  return canonicalManifest(toJsonForm(sealManifest(manifest)));
}

/**
 * Parses and checks a serialized manifest (untrusted input): JSON, then the format version (an unknown one throws
 * `UnknownFormatVersionError` before anything else is read), then every field, then the checksum. Every problem
 * found is listed in one {@link ManifestInvalidError}.
 */
export function decodeManifest(input: string | Uint8Array, where?: string): SnapshotManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (err) {
    throw new ManifestInvalidError([`not JSON${where === undefined ? '' : ` (${where})`}`], { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ManifestInvalidError(['not a JSON object']);
  }
  const form = parsed as Record<string, unknown>;
  if (!READABLE_MANIFEST_FORMATS.includes(form['format'] as number)) {
    throw new UnknownFormatVersionError({
      recordKind: 'snapshot manifest',
      found: form['format'],
      known: [...READABLE_MANIFEST_FORMATS],
      ...(where === undefined ? {} : { where }),
    });
  }
  const reader = new FieldReader();
  const manifest = reader.manifest(form);
  const snapshotId = typeof form['snapshotId'] === 'string' ? form['snapshotId'] : undefined;
  if (reader.problems.length > 0 || manifest === undefined) {
    throw new ManifestInvalidError(reader.problems, { ...(snapshotId === undefined ? {} : { snapshotId }) });
  }
  const checksumProblems = manifestChecksumProblems(manifest);
  if (checksumProblems.length > 0)
    throw new ManifestInvalidError(checksumProblems, { snapshotId: manifest.snapshotId });
  return manifest;
}

/** Problems of an in-memory manifest (types, ranges, sums), without the checksum; empty when it is valid. */
export function validateManifest(manifest: SnapshotManifest): string[] {
  try {
    const reader = new FieldReader();
    reader.manifest(JSON.parse(JSON.stringify(toJsonForm(manifest))) as Record<string, unknown>);
    return reader.problems;
  } catch (err) {
    if (err instanceof ManifestInvalidError) return [...err.problems];
    if (err instanceof InvalidOpTimeError || err instanceof RangeError || err instanceof TypeError) {
      return [err.message];
    }
    throw err;
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Reads the JSON form field by field, collecting every problem with its path. */
class FieldReader {
  readonly problems: string[] = [];
  /** The manifest's format, once read (what a chunk reference may hold depends on it). */
  private format: number = MANIFEST_FORMAT;

  private problem(path: string, what: string): undefined {
    this.problems.push(`${path}: ${what}`);
    return undefined;
  }

  private known(obj: Record<string, unknown>, path: string, fields: readonly string[]): void {
    for (const key of Object.keys(obj))
      if (!fields.includes(key)) this.problem(`${path}${key}`, 'unknown field');
  }

  private object(value: unknown, path: string): Record<string, unknown> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
    return this.problem(path, value === undefined ? 'missing' : 'must be an object');
  }

  private array(value: unknown, path: string): unknown[] | undefined {
    if (Array.isArray(value)) return value;
    return this.problem(path, value === undefined ? 'missing' : 'must be an array');
  }

  private string(
    value: unknown,
    path: string,
    pattern?: RegExp,
    what = 'a non-empty string',
  ): string | undefined {
    if (typeof value === 'string' && value !== '' && (pattern === undefined || pattern.test(value)))
      return value;
    return this.problem(path, value === undefined ? 'missing' : `must be ${what}, got ${showValue(value)}`);
  }

  private count(value: unknown, path: string): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    return this.problem(
      path,
      value === undefined ? 'missing' : `must be a non-negative integer, got ${showValue(value)}`,
    );
  }

  private date(value: unknown, path: string): Date | undefined {
    const text = this.string(value, path, ISO_DATE, 'an ISO 8601 UTC time with milliseconds');
    if (text === undefined) return undefined;
    const date = new Date(text);
    if (Number.isNaN(date.getTime()) || date.toISOString() !== text)
      return this.problem(path, `invalid date ${text}`);
    return date;
  }

  private opTime(value: unknown, path: string): OpTime | undefined {
    const text = this.string(value, path, /^\d+:\d+$/, 'an oplog position "<t>:<i>"');
    if (text === undefined) return undefined;
    try {
      return parseOpTime(text);
    } catch (err) {
      return this.problem(path, err instanceof Error ? err.message : String(err));
    }
  }

  private oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    return this.problem(
      path,
      value === undefined ? 'missing' : `must be one of ${allowed.join(', ')}, got ${showValue(value)}`,
    );
  }

  manifest(form: Record<string, unknown>): SnapshotManifest | undefined {
    this.known(form, '', [
      'format',
      'jobId',
      'syncId',
      'snapshotId',
      'opTime',
      'opWallTime',
      'takenAt',
      'completedAt',
      'store',
      'codec',
      'chunking',
      'encryption',
      'namespaces',
      'logicalBytes',
      'storedBytes',
      'referencedBytes',
      'checksum',
    ]);
    if (!READABLE_MANIFEST_FORMATS.includes(form['format'] as number))
      this.problem(
        'format',
        `must be one of ${READABLE_MANIFEST_FORMATS.join(', ')}, got ${showValue(form['format'])}`,
      );
    this.format = form['format'] as number;
    const jobId = this.string(form['jobId'], 'jobId');
    const syncId = this.string(form['syncId'], 'syncId');
    const snapshotId = this.string(form['snapshotId'], 'snapshotId');
    const opTime = this.opTime(form['opTime'], 'opTime');
    const opWallTime =
      form['opWallTime'] === undefined ? undefined : this.date(form['opWallTime'], 'opWallTime');
    const takenAt = this.date(form['takenAt'], 'takenAt');
    const completedAt =
      form['completedAt'] === undefined ? undefined : this.date(form['completedAt'], 'completedAt');
    const store = this.oneOf<StoreKind>(form['store'], 'store', STORE_KINDS);
    const codec = this.oneOf<BlockCodec>(form['codec'], 'codec', CODECS);
    const chunking = this.chunking(form['chunking']);
    const encryption = form['encryption'] === undefined ? undefined : this.encryption(form['encryption']);
    const namespaces = (this.array(form['namespaces'], 'namespaces') ?? []).map((ns, k) =>
      this.namespace(ns, `namespaces[${k}]`),
    );
    const logicalBytes = this.count(form['logicalBytes'], 'logicalBytes');
    const storedBytes = this.count(form['storedBytes'], 'storedBytes');
    const referencedBytes = this.count(form['referencedBytes'], 'referencedBytes');
    const checksum =
      form['checksum'] === undefined
        ? undefined
        : this.string(form['checksum'], 'checksum', HEX64, '64 lowercase hex digits');

    const names = namespaces.map((ns) => ns?.namespace);
    for (let k = 1; k < names.length; k++) {
      const [a, b] = [names[k - 1], names[k]];
      if (a !== undefined && b !== undefined && !(a < b)) {
        this.problem(`namespaces[${k}].namespace`, `${b} is not after ${a} (sorted, no duplicates)`);
      }
    }
    if (logicalBytes !== undefined && namespaces.every((ns) => ns !== undefined)) {
      const sum = namespaces.reduce((total, ns) => total + (ns as NamespaceManifest).logicalBytes, 0);
      if (sum !== logicalBytes)
        this.problem('logicalBytes', `is ${logicalBytes}, the namespaces sum to ${sum}`);
    }
    if (takenAt !== undefined && completedAt !== undefined && completedAt < takenAt) {
      this.problem('completedAt', 'is before takenAt');
    }
    if (
      this.problems.length > 0 ||
      [
        jobId,
        syncId,
        snapshotId,
        opTime,
        takenAt,
        store,
        codec,
        chunking,
        logicalBytes,
        storedBytes,
        referencedBytes,
      ].some((v) => v === undefined)
    ) {
      return undefined;
    }
    return {
      format: this.format,
      jobId: jobId as string,
      syncId: syncId as string,
      snapshotId: snapshotId as string,
      opTime: opTime as OpTime,
      ...(opWallTime === undefined ? {} : { opWallTime }),
      takenAt: takenAt as Date,
      ...(completedAt === undefined ? {} : { completedAt }),
      store: store as StoreKind,
      codec: codec as BlockCodec,
      chunking: chunking as SnapshotManifest['chunking'],
      ...(encryption === undefined ? {} : { encryption }),
      namespaces: namespaces as NamespaceManifest[],
      logicalBytes: logicalBytes as number,
      storedBytes: storedBytes as number,
      referencedBytes: referencedBytes as number,
      ...(checksum === undefined ? {} : { checksum }),
    };
  }

  private chunking(value: unknown): SnapshotManifest['chunking'] | undefined {
    const obj = this.object(value, 'chunking');
    if (obj === undefined) return undefined;
    this.known(obj, 'chunking.', ['algorithm', 'minSize', 'avgSize', 'maxSize', 'normalization']);
    const algorithm = this.string(obj['algorithm'], 'chunking.algorithm');
    const minSize = this.count(obj['minSize'], 'chunking.minSize');
    const avgSize = this.count(obj['avgSize'], 'chunking.avgSize');
    const maxSize = this.count(obj['maxSize'], 'chunking.maxSize');
    const normalization =
      obj['normalization'] === undefined
        ? undefined
        : this.count(obj['normalization'], 'chunking.normalization');
    if (minSize !== undefined && avgSize !== undefined && maxSize !== undefined) {
      if (!(0 < minSize && minSize <= avgSize && avgSize <= maxSize)) {
        this.problem(
          'chunking',
          `need 0 < minSize <= avgSize <= maxSize, got ${minSize} / ${avgSize} / ${maxSize}`,
        );
      }
    }
    if ([algorithm, minSize, avgSize, maxSize].some((v) => v === undefined)) return undefined;
    return {
      algorithm: algorithm as string,
      minSize: minSize as number,
      avgSize: avgSize as number,
      maxSize: maxSize as number,
      ...(normalization === undefined ? {} : { normalization }),
    };
  }

  private encryption(value: unknown): SnapshotManifest['encryption'] {
    const obj = this.object(value, 'encryption');
    if (obj === undefined) return undefined;
    this.known(obj, 'encryption.', ['algorithm', 'keyId']);
    const algorithm = this.oneOf(obj['algorithm'], 'encryption.algorithm', ['aes-256-gcm'] as const);
    const keyId = this.string(obj['keyId'], 'encryption.keyId');
    if (algorithm === undefined || keyId === undefined) return undefined;
    return { algorithm, keyId };
  }

  private namespace(value: unknown, path: string): NamespaceManifest | undefined {
    const obj = this.object(value, path);
    if (obj === undefined) return undefined;
    this.known(obj, `${path}.`, [
      'namespace',
      'documentCount',
      'logicalBytes',
      'contentHash',
      'options',
      'indexes',
      'chunks',
    ]);
    const namespace = this.string(
      obj['namespace'],
      `${path}.namespace`,
      /^[^.]+\..+$/,
      '"<db>.<collection>"',
    );
    const documentCount = this.count(obj['documentCount'], `${path}.documentCount`);
    const logicalBytes = this.count(obj['logicalBytes'], `${path}.logicalBytes`);
    const contentHash = this.string(
      obj['contentHash'],
      `${path}.contentHash`,
      HEX64,
      '64 lowercase hex digits',
    );
    const options = this.object(obj['options'], `${path}.options`) as
      Readonly<Record<string, unknown>> | undefined;
    const indexes = (this.array(obj['indexes'], `${path}.indexes`) ?? []).map(
      (ix, k) => this.object(ix, `${path}.indexes[${k}]`) as IndexSpec | undefined,
    );
    const chunks = (this.array(obj['chunks'], `${path}.chunks`) ?? []).map((c, k) =>
      this.chunk(c, `${path}.chunks[${k}]`),
    );
    if (logicalBytes !== undefined && chunks.every((c) => c !== undefined)) {
      const sum = chunks.reduce((total, c) => total + (c as ChunkRef).length, 0);
      if (sum !== logicalBytes)
        this.problem(`${path}.logicalBytes`, `is ${logicalBytes}, the chunks sum to ${sum}`);
    }
    if (
      [namespace, documentCount, logicalBytes, contentHash, options].some((v) => v === undefined) ||
      indexes.some((ix) => ix === undefined) ||
      chunks.some((c) => c === undefined)
    ) {
      return undefined;
    }
    return {
      namespace: namespace as string,
      documentCount: documentCount as number,
      logicalBytes: logicalBytes as number,
      contentHash: contentHash as string,
      options: options as Readonly<Record<string, unknown>>,
      indexes: indexes as IndexSpec[],
      chunks: chunks as ChunkRef[],
    };
  }

  private chunk(value: unknown, path: string): ChunkRef | undefined {
    const obj = this.object(value, path);
    if (obj === undefined) return undefined;
    this.known(
      obj,
      `${path}.`,
      this.format >= 2
        ? ['address', 'length', 'storedLength', 'base', 'baseStoredLength']
        : ['address', 'length', 'storedLength'],
    );
    const address = obj['address'];
    if (!isBlockAddress(address))
      this.problem(`${path}.address`, `must be 64 lowercase hex digits, got ${showValue(address)}`);
    const length = this.count(obj['length'], `${path}.length`);
    const storedLength =
      obj['storedLength'] === undefined ? undefined : this.count(obj['storedLength'], `${path}.storedLength`);
    const base = obj['base'];
    if (base !== undefined && !isBlockAddress(base))
      this.problem(`${path}.base`, `must be 64 lowercase hex digits, got ${showValue(base)}`);
    if (base !== undefined && base === address) this.problem(`${path}.base`, 'must not be the chunk itself');
    const baseStoredLength =
      obj['baseStoredLength'] === undefined
        ? undefined
        : this.count(obj['baseStoredLength'], `${path}.baseStoredLength`);
    if (baseStoredLength !== undefined && base === undefined)
      this.problem(`${path}.baseStoredLength`, 'without a base');
    if (!isBlockAddress(address) || length === undefined) return undefined;
    return {
      address,
      length,
      ...(storedLength === undefined ? {} : { storedLength }),
      ...(isBlockAddress(base) && base !== address ? { base } : {}),
      ...(baseStoredLength === undefined || base === undefined ? {} : { baseStoredLength }),
    };
  }
}
