/**
 * head-builder: entry point. Run with `node --import tsx apps/head-builder/src/main.ts` (or `npx nx serve head-builder`).
 * Reads its configuration from the environment, opens its connections, serves /healthz and /readyz and
 * exits 0 on SIGTERM after closing them. See README.md.
 */
import { bootstrapService, exitOnStartupFailure, loadServiceConfig } from '@tidemark/service-shell';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const config = loadServiceConfig('head-builder');
  await bootstrapService({ name: 'head-builder', module: AppModule.forRoot(config) });
}

main().catch(exitOnStartupFailure('head-builder'));
