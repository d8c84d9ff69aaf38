/**
 * Grants: what a key may do, one role per project (`{ shop: 'operator', crm: 'viewer' }`). A key holds 1-100 of
 * them. {@link parseGrants} checks a request's `grants` and says every problem.
 */
import { projectNameProblems } from './project-name';
import { isRole, ROLES, type Role } from './role';

export type Grants = Readonly<Record<string, Role>>;
export const MAX_GRANTS = 100;

/** `grants` of a request body: an object of project name -> role. Returns the problems, or the grants. */
export function parseGrants(raw: unknown): { grants: Grants; problems: [] } | { problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { problems: ['grants must be an object of project name to role, e.g. {"shop":"operator"}'] };
  const entries = Object.entries(raw as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length === 0) problems.push('grants must name at least one project');
  if (entries.length > MAX_GRANTS) problems.push(`grants may name at most ${MAX_GRANTS} projects`);
  const grants: Record<string, Role> = Object.create(null) as Record<string, Role>;
  for (const [project, role] of entries.slice(0, MAX_GRANTS)) {
    problems.push(...projectNameProblems(project, 'grant project'));
    if (!isRole(role))
      problems.push(
        `the role of ${JSON.stringify(project.slice(0, 80))} must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`,
      );
    else grants[project] = role;
  }
  return problems.length > 0 ? { problems } : { grants: { ...grants }, problems: [] };
}
