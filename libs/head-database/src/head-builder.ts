import { EJSON } from 'bson';
import {
  DEFAULT_SLICE_LIMITS,
  formatOpTime,
  headNamespace,
  NO_PROGRESS,
  phaseReport,
  parseSyncId,
  SliceValidationError,
  type HeadCatalog,
  type HeadRegistry,
  type HeadWriter,
  type OplogStore,
  type PhaseReporter,
  type SliceLimits,
} from '@tidemark/domain';
import { decodeCatalog, decodeSlicePayload, type SliceClaimCheck } from '@tidemark/slices';

/** What the head-builder needs of a claim check (`tidemark.slices.stored`). */
export type StoredClaim = Pick<SliceClaimCheck, 'jobId' | 'syncId' | 'sliceId' | 'kind'>;

/** The stage these phase reports come from. */
const STAGE = 'head-builder';

export type BuildOutcome =
  | { kind: 'built'; sliceId: string; docs: number }
  | { kind: 'already-built'; sliceId: string }
  | { kind: 'catalog-recorded'; sliceId: string }
  | { kind: 'ignored'; sliceId: string; reason: string };

export class HeadBuilder {
  constructor(
    private readonly store: OplogStore,
    private readonly registry: HeadRegistry,
    private readonly writer: HeadWriter,
    private readonly phases: PhaseReporter,
    private readonly limits: SliceLimits = DEFAULT_SLICE_LIMITS,
  ) {}

  /** Handles one claim: builds the slice or records the catalog, then checks whether a phase completed. */
  async onSliceStored(claim: StoredClaim): Promise<BuildOutcome> {
    if (claim.kind === 'oplog')
      return {
        kind: 'ignored',
        sliceId: claim.sliceId,
        reason: 'oplog slices are applied by the oplog-applier',
      };
    const stored = await this.store.get(claim.sliceId);
    if (!stored) {
      // The claim check names a slice the store does not have: never build from a guess.
      throw new SliceValidationError({
        sliceId: claim.sliceId,
        reason: 'claimed as stored but absent from the oplog store',
      });
    }
    const { meta, payload } = stored;
    const { syncNo } = parseSyncId(meta.syncId);
    let outcome: BuildOutcome;
    if (meta.kind === 'initial') {
      if (await this.registry.isBuilt(meta.sliceId)) {
        outcome = { kind: 'already-built', sliceId: meta.sliceId };
      } else {
        const docs = decodeSlicePayload(payload, meta, this.limits);
        const headNs = headNamespace(meta.jobId, syncNo, meta.namespace);
        if (meta.origin === 'scan') await this.writer.insertScanned(headNs, docs);
        else await this.writer.upsertFetched(headNs, docs);
        await this.registry.markBuilt(meta.sliceId, {
          jobId: meta.jobId,
          syncId: meta.syncId,
          origin: meta.origin,
          ns: meta.namespace,
        });
        outcome = { kind: 'built', sliceId: meta.sliceId, docs: docs.length };
      }
    } else if (meta.kind === 'catalog') {
      const catalog = decodeCatalog(decodeSlicePayload(payload, meta, this.limits), meta.sliceId);
      if (catalog.origin === 'scan') {
        const head: HeadCatalog = {
          startTs: catalog.startTs,
          endTs: catalog.endTs,
          namespaces: catalog.namespaces.map((n) => ({
            ns: n.ns,
            headNs: headNamespace(meta.jobId, syncNo, n.ns),
            sliceCount: n.sliceCount,
            docCount: n.docCount,
            ...(n.options ? { optionsEjson: EJSON.stringify(n.options, { relaxed: false }) } : {}),
            ...(n.indexes ? { indexesEjson: EJSON.stringify(n.indexes, { relaxed: false }) } : {}),
          })),
          ...(catalog.serverVersion ? { serverVersion: catalog.serverVersion } : {}),
          ...(catalog.featureCompatibilityVersion
            ? { featureCompatibilityVersion: catalog.featureCompatibilityVersion }
            : {}),
        };
        for (const n of head.namespaces) await this.writer.createCollection(n.headNs, n.optionsEjson);
        await this.registry.recordScanCatalog(meta.jobId, meta.syncId, syncNo, head);
        const built = (await this.registry.get(meta.jobId, meta.syncId))?.buildCompleteAt !== undefined;
        if (!built)
          await this.phases.report(
            phaseReport(STAGE, {
              jobId: meta.jobId,
              syncId: meta.syncId,
              phase: 'building',
              details: { startTs: formatOpTime(catalog.startTs), endTs: formatOpTime(catalog.endTs) },
            }),
          );
      } else {
        await this.registry.recordMissingCatalog(
          meta.jobId,
          meta.syncId,
          catalog.namespaces.map((n) => ({ ns: n.ns, sliceCount: n.sliceCount, docCount: n.docCount })),
        );
      }
      outcome = { kind: 'catalog-recorded', sliceId: meta.sliceId };
    } else {
      outcome = { kind: 'ignored', sliceId: meta.sliceId, reason: `kind ${meta.kind}` };
    }
    await this.checkCompletion(meta.jobId, meta.syncId);
    return outcome;
  }

  /**
   * Reports `applying-oplogs` once every slice of the scan catalog is built, and, once every slice of the missing
   * catalog is built, creates the indexes and reports `creating-indexes` then `complete`.
   */
  async checkCompletion(jobId: string, syncId: string): Promise<void> {
    const head = await this.registry.get(jobId, syncId);
    if (!head?.scan) return;
    const scanTotal = head.scan.namespaces.reduce((n, ns) => n + ns.sliceCount, 0);
    if (!head.buildCompleteAt && (await this.registry.countBuilt(jobId, syncId, 'scan')) >= scanTotal) {
      const docsTotal = head.scan.namespaces.reduce((n, ns) => n + ns.docCount, 0);
      await this.phases.report(
        phaseReport(STAGE, {
          jobId,
          syncId,
          phase: 'applying-oplogs',
          details: { startTs: formatOpTime(head.scan.startTs), endTs: formatOpTime(head.scan.endTs) },
          progress: { ...NO_PROGRESS, docsCopied: BigInt(docsTotal), docsTotal: BigInt(docsTotal) },
        }),
      );
      await this.registry.mark(jobId, syncId, 'buildCompleteAt');
    }
    if (!head.missing || head.completeAt) return;
    const missingTotal = head.missing.namespaces.reduce((n, ns) => n + ns.sliceCount, 0);
    if ((await this.registry.countBuilt(jobId, syncId, 'missing')) < missingTotal) return;
    const missingDocs = head.missing.namespaces.reduce((n, ns) => n + ns.docCount, 0);
    await this.phases.report(
      phaseReport(STAGE, {
        jobId,
        syncId,
        phase: 'creating-indexes',
        details: { missingDocuments: String(missingDocs) },
      }),
    );
    for (const n of head.scan.namespaces) await this.writer.createIndexes(n.headNs, n.indexesEjson);
    await this.phases.report(phaseReport(STAGE, { jobId, syncId, phase: 'complete' }));
    await this.registry.mark(jobId, syncId, 'completeAt');
  }
}
