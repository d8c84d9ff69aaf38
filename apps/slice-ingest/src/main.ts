/**
 * slice-ingest: entry point. Run with `node --import tsx apps/slice-ingest/src/main.ts` (or `npx nx serve slice-ingest`).
 * Reads its configuration from the environment, opens its connections, ingests slices, serves /healthz and
 * /readyz and exits 0 on SIGTERM after closing them. See README.md.
 */
import { exitOnStartupFailure } from '@tidemark/service-shell';
import { startSliceIngest } from './slice-ingest-service';

startSliceIngest().catch(exitOnStartupFailure('slice-ingest'));
