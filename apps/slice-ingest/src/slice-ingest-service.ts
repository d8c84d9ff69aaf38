/**
 * Starts slice-ingest: `main.ts` runs it; the integration test runs it in-process with its own topic prefix,
 * oplog store database and test hooks.
 */
import { bootstrapService, loadServiceConfig, type RunningService } from '@tidemark/service-shell';
import { AppModule } from './app.module';
import { loadIngestSettings } from './ingest/ingest-settings';
import type { SliceIngestHooks } from './ingest/slice-ingest-handler';

export interface StartSliceIngestOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly hooks?: SliceIngestHooks;
}

export async function startSliceIngest(options: StartSliceIngestOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = loadServiceConfig('slice-ingest', env);
  const settings = loadIngestSettings(env);
  return bootstrapService({
    name: 'slice-ingest',
    module: AppModule.forRoot(config, settings, options.hooks),
    env,
  });
}
