/**
 * Project names: 1-64 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit. They stand
 * in URLs (`/api/v1/projects/:name`) and in the CLI's `--grant PROJECT=ROLE`, so nothing else is allowed.
 */
export const PROJECT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The problems of `name` as a project name, as sentences; empty when it is valid. */
export function projectNameProblems(name: unknown, field = 'project'): string[] {
  if (typeof name !== 'string') return [`${field} must be a string`];
  if (!PROJECT_NAME_PATTERN.test(name))
    return [
      `${field} ${JSON.stringify(name.slice(0, 80))} is not a project name: 1-64 letters, digits, ".", "_" or "-", ` +
        'starting with a letter or digit',
    ];
  return [];
}
