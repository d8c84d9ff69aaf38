/**
 * oplog-applier: entry point. Run with `node --import tsx apps/oplog-applier/src/main.ts` (or `npx nx serve oplog-applier`).
 * Reads its configuration from the environment, opens its connections, serves /healthz and /readyz and
 * exits 0 on SIGTERM after closing them. See README.md.
 */
import { bootstrapService, exitOnStartupFailure, loadServiceConfig } from '@tidemark/shell';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const config = loadServiceConfig('oplog-applier');
  await bootstrapService({ name: 'oplog-applier', module: AppModule.forRoot(config) });
}

main().catch(exitOnStartupFailure('oplog-applier'));
