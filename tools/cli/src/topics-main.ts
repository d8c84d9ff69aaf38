/**
 * `tidemark topics …` alone, as its own program: the entry of the `topics` bundle (`dist/tools/topics/main.js`,
 * tools/build/bundle-apps.mjs) that the job-state image carries for the Kubernetes Job declaring the topics
 * (deploy/k8s/base/topics-job.yaml). Same exit codes as the CLI: 0 done, 1 failed, 2 wrong usage.
 */
import { runTopicsCommand } from './topics-command';

class UsageError extends Error {}

runTopicsCommand(process.argv.slice(2), (message) => new UsageError(message)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tidemark: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
