/**
 * oplog-applier: entry point. Run with `node --import tsx apps/oplog-applier/src/main.ts` (or `npx nx serve oplog-applier`).
 * Reads its configuration from the environment, opens its connections, applies stored oplog slices to the head
 * databases, serves /healthz and /readyz and exits 0 on SIGTERM after closing them. See README.md.
 */
import { exitOnStartupFailure } from '@tidemark/service-shell';
import { startOplogApplier } from './oplog-applier-service';

startOplogApplier().catch(exitOnStartupFailure('oplog-applier'));
