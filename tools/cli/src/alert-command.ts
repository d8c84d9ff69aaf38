/**
 * `tidemark alert list --project P [--job J] [--all] [--json]`: alerts through job-state's API (docs/api.md,
 * "Alerts"), newest opened first: those open now, or with `--all` the recently closed ones too. A project's list
 * includes the alerts about no job (a stage's consumer group); `--job` lists one job of the project. `--json` prints
 * an array of the API's alerts. Exit codes: 0 done, 1 the API refused (its reason), 2 wrong usage.
 */
import type { AlertEntryView } from '@tidemark/jobs';
import { once, parseCommand } from './args';
import { JobApiClient, JobApiError } from './job-api-client';

export const ALERT_HELP = `  tidemark alert list --project P [--job ID] [--all] [--json]
                                   open alerts newest first (--all: recently closed ones too)
`;

type Usage = (message: string) => Error;

/** One alert as a line: opened, state, severity, code, job, subject, message, and when closed why. */
export function formatAlertLine(a: AlertEntryView): string {
  const closed = a.state === 'closed' ? `  closed ${a.closedAt ?? '?'}: ${a.closeReason ?? ''}` : '';
  return (
    `${a.openedAt}  ${a.state.toUpperCase()}  ${a.severity}  ${a.code}  ${a.jobId ?? '-'}  ${a.subject}  ` +
    `${a.message}${closed}\n`
  );
}

export async function runAlertCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'list')
    throw usage(`unknown alert command ${sub === undefined ? '(none)' : JSON.stringify(sub)}`);
  const parsed = parseCommand(
    args,
    { project: 'string', job: 'string', all: 'boolean', json: 'boolean' },
    usage,
  );
  if (parsed.unknown.length > 0) throw usage(`alert list: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length > 0) throw usage(`alert list: unexpected argument ${parsed.positionals[0]}`);
  const project = once(parsed, 'project', usage);
  const jobId = once(parsed, 'job', usage);
  if (project === undefined) throw usage('alert list needs --project P');
  const state = parsed.flag('all') ? 'all' : 'open';
  const api = new JobApiClient();
  try {
    if (jobId !== undefined) {
      const job = await api.get(jobId);
      if (job.project !== project) {
        process.stderr.write(`tidemark: job ${jobId} is not in project ${project}\n`);
        return 1;
      }
    }
    const alerts = await api.listAlerts(jobId === undefined ? { project } : { jobId }, state);
    process.stdout.write(
      parsed.flag('json')
        ? `${JSON.stringify(alerts, null, 2)}\n`
        : alerts.length === 0
          ? `no ${state === 'open' ? 'open ' : ''}alerts\n`
          : alerts.map(formatAlertLine).join(''),
    );
    return 0;
  } catch (err) {
    if (err instanceof JobApiError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
