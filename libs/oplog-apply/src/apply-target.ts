/**
 * The apply target port, re-exported for compatibility: it lives in `@tidemark/domain`
 * (`libs/domain/src/ports/apply-target.ts`, with its contracts) so that adapter libraries can implement it.
 */
export type {
  ApplyTarget,
  ApplyTargetCapabilities,
  DeleteResult,
  IdFilter,
  IndexSpec,
  ModifierSpec,
  TargetUpdate,
  UpdateResult,
} from '@tidemark/domain';
