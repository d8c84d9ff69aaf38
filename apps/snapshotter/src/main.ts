/**
 * snapshotter: entry point. Run with `node --import tsx apps/snapshotter/src/main.ts` (or `npx nx serve snapshotter`).
 * Reads its configuration from the environment, opens its connections, takes, verifies, expires and grooms
 * snapshots, serves /healthz and /readyz and exits 0 on SIGTERM after closing them. See README.md.
 */
import { exitOnStartupFailure } from '@tidemark/service-shell';
import { startSnapshotter } from './snapshotter-service';

startSnapshotter().catch(exitOnStartupFailure('snapshotter'));
