/**
 * The `tidemark` CLI. Commands:
 *   tidemark infra up|down|status [--json]|env   the real servers alone (Kafka, source and backup FerretDB, S3)
 *   tidemark up|down|status [--json]             the servers and all six services as local processes
 *   tidemark infra containers                    the same servers as containers (testcontainers), in the foreground
 *   tidemark test [--unit] [--integration] [--only PATH]... [--keep-infra] [--containers]
 *   tidemark job create|start|stop|restart|terminate|resync|list|status|wait ...   backup jobs (job-command.ts)
 *   tidemark project create|list|show|delete, key create|list|revoke   projects and API keys (access-command.ts)
 *   tidemark audit list --project P                                     a project's audit trail (audit-command.ts)
 *   tidemark snapshot take|list|verify|delete ...   a job's snapshots (snapshot-command.ts)
 *   tidemark restore --snapshot ID | --job ID --at T --to URI ...   restores (restore-command.ts)
 *   tidemark alert list --project P [--job ID] [--all] [--json]   alerts, open (and closed) (alert-command.ts)
 *   tidemark events tail [--topic T]... [--job ID] [--from ...] [--json]   the topics' events (events-command.ts)
 *   tidemark topics ensure [--prefix P] [--replication-factor N] [--json]   create and check every topic (topics-command.ts)
 */
import { DEFAULT_API_URL } from '@tidemark/config';
import {
  exportLines,
  infraDown,
  infraEnvLines,
  infraStatus,
  infraUp,
  startContainers,
} from '@tidemark/testing';
import { ACCESS_HELP, runKeyCommand, runProjectCommand } from './access-command';
import { AUDIT_HELP, runAuditCommand } from './audit-command';
import { ALERT_HELP, runAlertCommand } from './alert-command';
import { parseCommand } from './args';
import { EVENTS_HELP, runEventsCommand } from './events-command';
import { runTopicsCommand, TOPICS_HELP } from './topics-command';
import { JOB_HELP, runJobCommand } from './job-command';
import { RESTORE_HELP, runRestoreCommand } from './restore-command';
import { SNAPSHOT_HELP, runSnapshotCommand } from './snapshot-command';
import { localAdminKeyFile, servicesDown, servicesStatus, servicesUp } from './services';
import { runTests } from './test-command';

const HELP = `tidemark — continuous, point-in-time backup for MongoDB

Usage:
  tidemark up                      start the servers and all six services; wait until each is ready
  tidemark down                    stop the services and the servers that \`up\` started
  tidemark status [--json]         health of every server and service
  tidemark infra up                start the servers alone (Kafka, source + backup FerretDB, S3) and wait
  tidemark infra down              stop exactly the server processes \`infra up\` started
  tidemark infra status [--json]   each endpoint and whether it is healthy
  tidemark infra env               the endpoints as \`export NAME=value\` lines (eval "$(npx tidemark infra env)")
  tidemark infra containers        the servers as containers instead (needs Docker and
                                   TIDEMARK_CONTAINERS_MONGODB_IMAGE); prints their \`export\` lines and runs
                                   until Ctrl-C, then removes them
  tidemark test [--unit] [--integration] [--only PATH]... [--keep-infra] [--concurrency N] [--containers]
                                   run the specs; starts the servers when integration specs need them
                                   (--containers, or TIDEMARK_CONTAINERS=true: as containers, removed afterwards)
${JOB_HELP}${ACCESS_HELP}${AUDIT_HELP}${SNAPSHOT_HELP}${RESTORE_HELP}${ALERT_HELP}${EVENTS_HELP}${TOPICS_HELP}  tidemark --help                  this text

Endpoints come from KAFKA_BROKERS, SOURCE_MONGODB_URI, BACKUP_MONGODB_URI, S3_ENDPOINT, S3_BUCKET,
S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY when set; otherwise from the servers \`tidemark infra up\` started.
The source and backup FerretDB run on SQLite or PostgreSQL: TIDEMARK_SOURCE_BACKEND, TIDEMARK_BACKUP_BACKEND
(postgresql, the default, or sqlite; PostgreSQL's ports: TIDEMARK_SOURCE_PG_PORT, TIDEMARK_BACKUP_PG_PORT).
`;

const log = (m: string) => process.stderr.write(`tidemark: ${m}\n`);

class UsageError extends Error {}

const usage = (message: string) => new UsageError(message);

function yesNo(ok: boolean): string {
  return ok ? 'healthy' : 'UNHEALTHY';
}

async function printInfraStatus(json: boolean): Promise<boolean> {
  const s = await infraStatus();
  const ok = s.kafka.healthy && s.source.healthy && s.backup.healthy && s.s3.healthy;
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return ok;
  }
  const row = (name: string, where: string, healthy: boolean, managed: boolean) =>
    `${name.padEnd(8)} ${yesNo(healthy).padEnd(10)} ${where}${managed ? '' : '  (external)'}`;
  process.stdout.write(
    [
      row('kafka', s.kafka.brokers.join(','), s.kafka.healthy, s.kafka.managed),
      row('source', s.source.uri, s.source.healthy, s.source.managed),
      row('backup', s.backup.uri, s.backup.healthy, s.backup.managed),
      row('s3', `${s.s3.endpoint ?? 'AWS S3'} bucket=${s.s3.bucket}`, s.s3.healthy, s.s3.managed),
      '',
    ].join('\n'),
  );
  return ok;
}

/** `tidemark infra containers`: start the servers as containers, print their endpoints, remove them on a signal. */
async function runContainersInForeground(): Promise<number> {
  const started = await startContainers(log);
  process.stdout.write(`${exportLines(started.env).join('\n')}\n`);
  log('the servers run as containers until Ctrl-C (SIGINT) or SIGTERM; then they are removed');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('removing the containers');
  await started.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'infra': {
      // Arguments after the infra command are ignored.
      const parsed = parseCommand(args, { json: 'boolean' }, usage);
      const json = parsed.flag('json');
      const sub = parsed.rest[0];
      if (sub === 'up') {
        const t0 = Date.now();
        await infraUp(log);
        log(`servers up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return (await printInfraStatus(false)) ? 0 : 1;
      }
      if (sub === 'down') {
        await infraDown(log);
        return 0;
      }
      if (sub === 'status') return (await printInfraStatus(json)) ? 0 : 1;
      if (sub === 'env') {
        process.stdout.write(`${infraEnvLines().join('\n')}\n`);
        return 0;
      }
      if (sub === 'containers') return runContainersInForeground();
      throw new UsageError(
        `unknown infra command ${JSON.stringify(sub)}: use up, down, status, env or containers`,
      );
    }
    case 'up': {
      const t0 = Date.now();
      await infraUp(log);
      await printInfraStatus(false);
      await servicesUp((m) => process.stdout.write(`${m}\n`));
      log(
        `Tidemark is up in ${((Date.now() - t0) / 1000).toFixed(1)} s; job-state API at ${DEFAULT_API_URL}/api/v1/jobs`,
      );
      if (
        (process.env['TIDEMARK_ADMIN_KEY'] ?? '') === '' &&
        (process.env['TIDEMARK_ADMIN_KEY_FILE'] ?? '') === ''
      )
        log(
          `the admin key is in ${localAdminKeyFile()}: export TIDEMARK_API_KEY_FILE=${localAdminKeyFile()}`,
        );
      return 0;
    }
    case 'down':
      await servicesDown(log);
      await infraDown(log);
      return 0;
    case 'status': {
      const json = parseCommand(args, { json: 'boolean' }, usage).flag('json');
      const services = await servicesStatus();
      if (json) {
        const infra = await infraStatus();
        process.stdout.write(`${JSON.stringify({ infra, services }, null, 2)}\n`);
        return services.every((s) => s.ready) ? 0 : 1;
      }
      const infraOk = await printInfraStatus(false);
      for (const s of services) {
        process.stdout.write(
          `${s.name.padEnd(14)} ${(s.ready ? 'ready' : 'NOT READY').padEnd(10)} http://127.0.0.1:${s.port}${s.detail ? `  ${s.detail.split('\n').join(' | ')}` : ''}\n`,
        );
      }
      return infraOk && services.every((s) => s.ready) ? 0 : 1;
    }
    case 'test': {
      const parsed = parseCommand(
        args,
        {
          unit: 'boolean',
          integration: 'boolean',
          'keep-infra': 'boolean',
          containers: 'boolean',
          only: 'string',
          concurrency: 'string',
          json: 'boolean', // accepted and ignored, as by every command
        },
        usage,
      );
      if (parsed.rest.length > 0) throw new UsageError(`unexpected arguments: ${parsed.rest.join(' ')}`);
      const unit = parsed.flag('unit');
      const integration = parsed.flag('integration');
      const keepInfra = parsed.flag('keep-infra');
      const containers = parsed.flag('containers') || process.env['TIDEMARK_CONTAINERS'] === 'true';
      const only = [...parsed.values('only')];
      const conc = parsed.values('concurrency');
      return runTests(
        {
          unit: unit || !integration,
          integration: integration || !unit,
          only,
          keepInfra,
          containers,
          concurrency: conc.length > 0 ? Number(conc[conc.length - 1]) : 2,
        },
        log,
      );
    }
    case 'job':
      return runJobCommand(args, usage);
    case 'project':
      return runProjectCommand(args, usage);
    case 'key':
      return runKeyCommand(args, usage);
    case 'audit':
      return runAuditCommand(args, usage);
    case 'snapshot':
      return runSnapshotCommand(args, usage);
    case 'restore':
      return runRestoreCommand(args, usage);
    case 'alert':
      return runAlertCommand(args, usage);
    case 'events':
      return runEventsCommand(args, usage);
    case 'topics':
      return runTopicsCommand(args, usage);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}; see tidemark --help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tidemark: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
