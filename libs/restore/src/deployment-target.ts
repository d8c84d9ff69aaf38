/**
 * `DeploymentTarget`: a restore into a MongoDB deployment, written through the same `HeadWriter` port the head
 * database is built with (`MongoHeadWriter` of `@tidemark/head-database-mongo`: options kept as the head keeps them,
 * documents inserted unordered from their raw BSON and checked byte for byte, indexes one at a time), plus the two
 * things a head never needs: how many documents a namespace holds, and dropping one.
 */
import { EJSON } from 'bson';
import type { HeadWriter } from '@tidemark/domain';
import type { RestoreNamespace, RestoreTarget } from './ports';

/** Counting and dropping a namespace of the target deployment. */
export interface NamespaceAdmin {
  /** Documents in `ns`, 0 when it does not exist. */
  countDocuments(ns: string): Promise<number>;
  /** Drops `ns`; a namespace that does not exist is not an error. */
  dropNamespace(ns: string): Promise<void>;
}

export class DeploymentTarget implements RestoreTarget {
  constructor(
    private readonly writer: HeadWriter,
    private readonly admin: NamespaceAdmin,
  ) {}

  existingDocuments(ns: string): Promise<number> {
    return this.admin.countDocuments(ns);
  }

  async begin(): Promise<void> {}

  async prepare(ns: RestoreNamespace, options: { readonly drop: boolean }): Promise<void> {
    if (options.drop) await this.admin.dropNamespace(ns.targetNs);
    await this.writer.createCollection(ns.targetNs, EJSON.stringify(ns.options, { relaxed: false }));
  }

  insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void> {
    return this.writer.insertScanned(
      ns.targetNs,
      docs.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)),
    );
  }

  async finish(ns: RestoreNamespace): Promise<void> {
    if (ns.indexes.length === 0) return;
    await this.writer.createIndexes(ns.targetNs, EJSON.stringify(ns.indexes, { relaxed: false }));
  }

  async end(): Promise<void> {}
}
