/**
 * `tidemark project ...` and `tidemark key ...`: projects and API keys through job-state's REST API (docs/api.md,
 * "Projects and API keys"), with the key of `TIDEMARK_API_KEY` / `TIDEMARK_API_KEY_FILE`. See `ACCESS_HELP`. Exit
 * codes: 0 done, 1 failed (the API's reason), 2 wrong usage.
 */
import { isRole, ROLES, type ApiKeyView, type ProjectView, type Role } from '@tidemark/access';
import { parseCommand, type ParsedCommand } from './args';
import { JobApiClient, JobApiError } from './job-api-client';

export const ACCESS_HELP = `  tidemark project create|show|delete NAME [--json] | tidemark project list [--json]
                                   projects (create and delete need the admin key; delete only an empty one)
  tidemark key create --grant PROJECT=ROLE [--grant ...] [--json]
                                   a new API key (ROLE: viewer, operator or owner), printed this once only
  tidemark key list [--json] | tidemark key revoke ID [--json]
                                   the keys you manage (id, grants, created, last used); revoke one at once
  (every API command sends the key of TIDEMARK_API_KEY or TIDEMARK_API_KEY_FILE)
`;

type Usage = (message: string) => Error;

const out = (text: string) => process.stdout.write(text);
const json = (value: unknown) => out(`${JSON.stringify(value, null, 2)}\n`);

function onlyArgument(parsed: ParsedCommand, what: string, usage: Usage): string {
  if (parsed.unknown.length > 0) throw usage(`${what}: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length !== 1) throw usage(`${what} needs exactly one argument`);
  return parsed.positionals[0]!;
}

function noArguments(parsed: ParsedCommand, what: string, usage: Usage): void {
  if (parsed.unknown.length > 0) throw usage(`${what}: unknown option ${parsed.unknown[0]}`);
  if (parsed.positionals.length > 0) throw usage(`${what} takes no arguments`);
}

/** `--grant PROJECT=ROLE`, each project once. */
export function parseGrantOptions(values: readonly string[], usage: Usage): Record<string, Role> {
  if (values.length === 0) throw usage('key create needs at least one --grant PROJECT=ROLE');
  const grants: Record<string, Role> = {};
  for (const v of values) {
    const m = /^([^=]+)=([^=]+)$/.exec(v);
    if (m === null) throw usage(`--grant ${JSON.stringify(v)} is not PROJECT=ROLE`);
    const [, project, role] = m as unknown as [string, string, string];
    if (!isRole(role)) throw usage(`--grant ${v}: the role must be one of ${ROLES.join(', ')}`);
    if (Object.hasOwn(grants, project)) throw usage(`--grant names project ${project} twice`);
    grants[project] = role;
  }
  return grants;
}

const formatGrants = (g: Readonly<Record<string, Role>>) =>
  Object.entries(g)
    .map(([p, r]) => `${p}=${r}`)
    .join(',');

export function formatProjectLine(p: ProjectView): string {
  return `${p.name}  created ${p.createdAt}\n`;
}

export function formatKeyLine(k: ApiKeyView): string {
  return (
    `${k.id}  ${k.prefix}…  ${formatGrants(k.grants) || '(no grants)'}  created ${k.createdAt} by ${k.createdBy}` +
    `  last used ${k.lastUsedAt ?? 'never'}${k.revokedAt === null ? '' : `  REVOKED ${k.revokedAt}`}\n`
  );
}

async function reported(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof JobApiError) {
      process.stderr.write(`tidemark: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export async function runProjectCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const top = parseCommand(argv, { json: 'boolean' }, usage);
  const asJson = top.flag('json');
  const [sub, ...args] = top.rest;
  const api = new JobApiClient();
  const show = (p: ProjectView) => (asJson ? json(p) : out(formatProjectLine(p)));
  return reported(async () => {
    switch (sub) {
      case 'create':
        show(await api.createProject(onlyArgument(parseCommand(args, {}, usage), 'project create', usage)));
        return 0;
      case 'show':
        show(await api.getProject(onlyArgument(parseCommand(args, {}, usage), 'project show', usage)));
        return 0;
      case 'delete': {
        const deleted = await api.deleteProject(
          onlyArgument(parseCommand(args, {}, usage), 'project delete', usage),
        );
        if (asJson) json(deleted);
        else out(`${deleted.name}: deleted\n`);
        return 0;
      }
      case 'list': {
        noArguments(parseCommand(args, {}, usage), 'project list', usage);
        const projects = await api.listProjects();
        if (asJson) json(projects);
        else out(projects.length === 0 ? 'no projects\n' : projects.map(formatProjectLine).join(''));
        return 0;
      }
      default:
        throw usage(`unknown project command ${sub === undefined ? '(none)' : JSON.stringify(sub)}`);
    }
  });
}

export async function runKeyCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const top = parseCommand(argv, { json: 'boolean' }, usage);
  const asJson = top.flag('json');
  const [sub, ...args] = top.rest;
  const api = new JobApiClient();
  return reported(async () => {
    switch (sub) {
      case 'create': {
        const parsed = parseCommand(args, { grant: 'string' }, usage);
        noArguments(parsed, 'key create', usage);
        const created = await api.createKey(parseGrantOptions(parsed.values('grant'), usage));
        if (asJson) json(created);
        else {
          out(formatKeyLine(created));
          out(`${created.key}\n`);
          process.stderr.write('tidemark: this is the only time the key is shown; store it now\n');
        }
        return 0;
      }
      case 'list': {
        noArguments(parseCommand(args, {}, usage), 'key list', usage);
        const keys = await api.listKeys();
        if (asJson) json(keys);
        else out(keys.length === 0 ? 'no keys\n' : keys.map(formatKeyLine).join(''));
        return 0;
      }
      case 'revoke': {
        const revoked = await api.revokeKey(onlyArgument(parseCommand(args, {}, usage), 'key revoke', usage));
        if (asJson) json(revoked);
        else out(`${revoked.id}: revoked at ${revoked.revokedAt}\n`);
        return 0;
      }
      default:
        throw usage(`unknown key command ${sub === undefined ? '(none)' : JSON.stringify(sub)}`);
    }
  });
}
