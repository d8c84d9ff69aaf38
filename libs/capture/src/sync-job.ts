import type { NamespaceFilters } from '@tidemark/domain';

/** One sync attempt of one job, as the agent works on it. */
export interface SyncJob {
  readonly jobId: string;
  /** `<jobId>-s<syncNo>`. */
  readonly syncId: string;
  readonly syncNo: number;
  readonly filters: NamespaceFilters;
}
