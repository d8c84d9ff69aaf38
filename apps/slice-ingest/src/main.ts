/**
 * slice-ingest: entry point. Run with `node --import tsx apps/slice-ingest/src/main.ts` (or `npx nx serve slice-ingest`).
 * Reads its configuration from the environment, opens its connections, serves /healthz and /readyz and
 * exits 0 on SIGTERM after closing them. See README.md.
 */
import { bootstrapService, exitOnStartupFailure, loadServiceConfig } from '@tidemark/shell';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const config = loadServiceConfig('slice-ingest');
  await bootstrapService({ name: 'slice-ingest', module: AppModule.forRoot(config) });
}

main().catch(exitOnStartupFailure('slice-ingest'));
