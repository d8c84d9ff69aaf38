/**
 * Starts the snapshotter: `main.ts` runs it; the integration test runs it in-process with its own topic prefix and
 * databases.
 */
import { bootstrapService, loadServiceConfig, type RunningService } from '@tidemark/service-shell';
import { AppModule } from './app.module';
import { loadSnapshotSettings } from './snapshot-settings';

export async function startSnapshotter(
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = loadServiceConfig('snapshotter', env);
  return bootstrapService({
    name: 'snapshotter',
    module: AppModule.forRoot(config, loadSnapshotSettings(env)),
    env,
  });
}
