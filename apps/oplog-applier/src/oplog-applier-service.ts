/**
 * Starts oplog-applier: `main.ts` runs it; the integration test runs it in-process with its own topic prefix and
 * databases.
 */
import { bootstrapService, loadServiceConfig, type RunningService } from '@tidemark/service-shell';
import { AppModule } from './app.module';
import { loadApplySettings } from './apply-settings';

export async function startOplogApplier(
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = loadServiceConfig('oplog-applier', env);
  return bootstrapService({
    name: 'oplog-applier',
    module: AppModule.forRoot(config, loadApplySettings(env)),
    env,
  });
}
