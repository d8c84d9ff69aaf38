/**
 * agent: entry point. Run with `node --import tsx apps/agent/src/main.ts` (or `npx nx serve agent`).
 * Reads its configuration from the environment, opens its connections, serves /healthz and /readyz and
 * exits 0 on SIGTERM after closing them. See README.md.
 */
import { bootstrapService, exitOnStartupFailure, loadServiceConfig } from '@tidemark/service-shell';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const config = loadServiceConfig('agent');
  await bootstrapService({ name: 'agent', module: AppModule.forRoot(config) });
}

main().catch(exitOnStartupFailure('agent'));
