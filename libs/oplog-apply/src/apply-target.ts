/**
 * The apply target port, re-exported for compatibility: it lives in `@tidemark/domain`
 * (`libs/domain/src/ports/apply-target.ts`, with its contracts) because two features use it (this applier writes
 * through it, `@tidemark/head-database`'s apply loop hands one to it); see docs/architecture.md, "Ports and adapters".
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
