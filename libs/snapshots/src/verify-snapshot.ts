/**
 * Verifying a snapshot (design invariant 5: "a verify command re-reads them"): re-read every block the manifest
 * names, decode it (authentication tag, length, address; a delta block against its base, which is read and checked
 * too), recompute each namespace's document count and content hash,
 * and check the manifest's own fields and checksum. The report names each damage precisely: namespace, chunk index,
 * address and the store's location of the block. Verify only reads; it never repairs, deletes or rewrites anything.
 */
import { TidemarkError } from '@tidemark/domain';
import { Sha256 } from '@tidemark/util';
import type { EncryptionKey } from './block-codec';
import type { SnapshotState } from './manifest';
import { manifestChecksumProblems, validateManifest } from './manifest-codec';
import { DocumentSplitter, keyForManifest, readChunks } from './read-snapshot';
import { BlockDamagedError, BlockMissingError } from './snapshot-errors';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';

/** One damaged or missing block reference. */
export interface BlockDamage {
  readonly namespace: string;
  /** Index of the chunk in the namespace's `chunks`. */
  readonly chunkIndex: number;
  /** The block at fault: the chunk's own, or the delta base it is read against (`reason` then says so). */
  readonly address: string;
  /** The store's `blockLocation` of the block. */
  readonly location: string;
  readonly kind: 'missing' | 'damaged';
  readonly reason: string;
}

export interface NamespaceVerification {
  readonly namespace: string;
  readonly chunks: number;
  /** Chunks whose block was missing or damaged. */
  readonly badChunks: number;
  /** Counted from the blocks, when every block was sound. */
  readonly documentCount?: number;
  /** Recomputed from the blocks, when every block was sound. */
  readonly contentHash?: string;
  /** What is wrong with the namespace as a whole (framing, count, hash); empty when sound. */
  readonly problems: readonly string[];
}

export interface VerifyReport {
  readonly jobId: string;
  readonly snapshotId: string;
  readonly state: SnapshotState;
  /** True when the snapshot is complete and everything checked. */
  readonly ok: boolean;
  /** Problems of the manifest itself (fields, sums, checksum) and of the record's state. */
  readonly manifestProblems: readonly string[];
  readonly damage: readonly BlockDamage[];
  readonly namespaces: readonly NamespaceVerification[];
  readonly blocksRead: number;
  readonly bytesRead: number;
}

export interface VerifyOptions {
  /** The key, when the snapshot's blocks are encrypted. */
  readonly key?: EncryptionKey;
  /** Called after each namespace. */
  readonly onNamespace?: (verification: NamespaceVerification) => void;
}

/**
 * Verifies the snapshot `snapshotId` of `jobId`, or the given record. Throws only when the snapshot does not exist,
 * the key is not the snapshot's (`EncryptionKeyError`), or the store fails (its errors say whether to retry); every
 * damage is in the report.
 */
export async function verifySnapshot(
  store: SnapshotStore,
  snapshot: SnapshotRecord | { jobId: string; snapshotId: string },
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const record =
    'manifest' in snapshot ? snapshot : await store.getSnapshot(snapshot.jobId, snapshot.snapshotId);
  if (record === undefined) {
    const { jobId, snapshotId } = snapshot as { jobId: string; snapshotId: string };
    throw new TidemarkError(`job ${jobId} has no snapshot ${snapshotId}`, { retriable: false });
  }
  const { manifest } = record;
  const manifestProblems = [...validateManifest(manifest), ...manifestChecksumProblems(manifest)];
  if (record.state !== 'complete') manifestProblems.push(`state is ${record.state}, not complete`);
  const key = keyForManifest(manifest, options.key);
  const damage: BlockDamage[] = [];
  const namespaces: NamespaceVerification[] = [];
  let blocksRead = 0;
  let bytesRead = 0;
  for (const ns of manifest.namespaces) {
    const hash = new Sha256();
    const splitter = new DocumentSplitter();
    let documents = 0;
    let badChunks = 0;
    let framing: string | undefined;
    for await (const read of readChunks(store, manifest.jobId, ns.chunks, key)) {
      const chunkIndex = read.index;
      const chunk = ns.chunks[chunkIndex]!;
      let plain: Uint8Array;
      if ('plain' in read) {
        plain = read.plain;
      } else {
        const err = read.error;
        if (!(err instanceof BlockMissingError || err instanceof BlockDamagedError)) throw err;
        badChunks++;
        // The block at fault: the chunk's own, or its delta base.
        const address = err.address;
        const ofBase = address !== chunk.address;
        const reason = err instanceof BlockDamagedError ? err.reason : 'not in the store';
        damage.push({
          namespace: ns.namespace,
          chunkIndex,
          address,
          location: store.blockLocation(manifest.jobId, address),
          kind: err instanceof BlockMissingError ? 'missing' : 'damaged',
          reason: ofBase ? `the delta base of ${chunk.address}: ${reason}` : reason,
        });
        continue;
      }
      blocksRead++;
      bytesRead += plain.length;
      if (badChunks > 0 || framing !== undefined) continue;
      hash.update(plain);
      try {
        documents += splitter.push(plain).length;
      } catch (err) {
        framing = `chunk ${chunkIndex}: ${err instanceof Error ? err.message : String(err)} after document ${documents}`;
      }
    }
    const problems: string[] = [];
    let verification: NamespaceVerification;
    if (badChunks > 0) {
      problems.push(
        `${badChunks} of ${ns.chunks.length} chunks missing or damaged; count and hash not checked`,
      );
      verification = { namespace: ns.namespace, chunks: ns.chunks.length, badChunks, problems };
    } else {
      if (framing !== undefined) problems.push(`not whole BSON documents: ${framing}`);
      else if (splitter.leftover > 0)
        problems.push(`${splitter.leftover} bytes after the last whole document`);
      const contentHash = hash.digestHex();
      if (framing === undefined && documents !== ns.documentCount) {
        problems.push(`${documents} documents, the manifest says ${ns.documentCount}`);
      }
      if (contentHash !== ns.contentHash)
        problems.push(`content hash ${contentHash}, the manifest says ${ns.contentHash}`);
      verification = {
        namespace: ns.namespace,
        chunks: ns.chunks.length,
        badChunks,
        ...(framing === undefined ? { documentCount: documents } : {}),
        contentHash,
        problems,
      };
    }
    namespaces.push(verification);
    options.onNamespace?.(verification);
  }
  const ok =
    manifestProblems.length === 0 && damage.length === 0 && namespaces.every((n) => n.problems.length === 0);
  return {
    jobId: manifest.jobId,
    snapshotId: manifest.snapshotId,
    state: record.state,
    ok,
    manifestProblems,
    damage,
    namespaces,
    blocksRead,
    bytesRead,
  };
}

/** The report as lines for people (CLI, logs): one line per problem, or one saying all is well. */
export function describeVerifyReport(report: VerifyReport): string[] {
  const head = `snapshot ${report.snapshotId} of job ${report.jobId}`;
  if (report.ok) {
    return [
      `${head}: ok (${report.blocksRead} blocks, ${report.bytesRead} bytes, ${report.namespaces.length} namespaces)`,
    ];
  }
  return [
    `${head}: DAMAGED`,
    ...report.manifestProblems.map((p) => `  manifest: ${p}`),
    ...report.damage.map(
      (d) =>
        `  ${d.namespace} chunk ${d.chunkIndex}: block ${d.address} ${d.kind}: ${d.reason} (${d.location})`,
    ),
    ...report.namespaces.flatMap((n) => n.problems.map((p) => `  ${n.namespace}: ${p}`)),
  ];
}
