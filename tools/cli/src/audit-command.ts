/**
 * `tidemark audit list --project P [--limit N] [--before T] [--json]`: a project's audit trail through job-state's
 * REST API (docs/api.md, "Audit"), newest first, with the key of `TIDEMARK_API_KEY` / `TIDEMARK_API_KEY_FILE` (the
 * project's owner, or the admin key). Exit codes: 0 done, 1 failed (the API's reason), 2 wrong usage.
 */
import type { AuditEventView } from '@tidemark/access';
import { parseCommand } from './args';
import { JobApiClient, JobApiError } from './job-api-client';

export const AUDIT_HELP = `  tidemark audit list --project P [--limit N] [--before ISO-TIME] [--json]
                                   the project's audit trail, newest first: who did what, refused or not, why
                                   (its owner or the admin key)
`;

type Usage = (message: string) => Error;

/** One line of `audit list`: time, outcome, status, action, resource, actor, job states and reason. */
export function formatAuditLine(e: AuditEventView): string {
  const resource = e.resource.id === null ? e.resource.kind : `${e.resource.kind} ${e.resource.id}`;
  const states =
    e.stateBefore === null && e.stateAfter === null
      ? ''
      : `  state ${e.stateBefore ?? '?'}${e.stateAfter === null ? '' : ` -> ${e.stateAfter}`}`;
  const reason = e.reason === null ? '' : `  reason ${JSON.stringify(e.reason)}`;
  return `${e.at}  ${e.outcome} ${e.status}  ${e.action}  ${resource}  by ${e.actor}${states}${reason}\n`;
}

export async function runAuditCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'list')
    throw usage(`unknown audit command ${sub === undefined ? '(none)' : JSON.stringify(sub)}`);
  const parsed = parseCommand(
    args,
    { project: 'string', limit: 'string', before: 'string', json: 'boolean' },
    usage,
  );
  if (parsed.unknown.length > 0) throw usage(`audit list: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length > 0) throw usage('audit list takes no arguments');
  const one = (name: string): string | undefined => {
    const values = parsed.values(name);
    if (values.length > 1) throw usage(`audit list: --${name} given twice`);
    return values[0];
  };
  const project = one('project');
  if (project === undefined || project === '') throw usage('audit list needs --project P');
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? undefined : Number(rawLimit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
    throw usage('audit list: --limit must be an integer 1..1000');
  const before = one('before');
  try {
    const events = await new JobApiClient().listAudit(project, {
      ...(limit === undefined ? {} : { limit }),
      ...(before === undefined ? {} : { before }),
    });
    if (parsed.flag('json')) process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    else
      process.stdout.write(events.length === 0 ? 'no audit events\n' : events.map(formatAuditLine).join(''));
    return 0;
  } catch (err) {
    if (err instanceof JobApiError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
