/**
 * job-state: entry point. Run with `node --import tsx apps/job-state/src/main.ts` (or `npx nx serve job-state`).
 * Serves the REST API (/api/v1/jobs) and probes, folds `tidemark.phases` into job views, exits 0 on SIGTERM
 * after stopping the consumer and closing its connections. See README.md.
 */
import { exitOnStartupFailure } from '@tidemark/service-shell';
import { startJobState } from './job-state-service';

startJobState().catch(exitOnStartupFailure('job-state'));
