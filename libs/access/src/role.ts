/**
 * Roles a key holds on a project, weakest first: `viewer` reads; `operator` also starts, stops, restarts and
 * resyncs jobs, takes and verifies snapshots and restores; `owner` also terminates jobs, deletes snapshots, creates
 * jobs and manages the project's keys. The bootstrap admin key stands above every role on every project.
 */
export const ROLES = ['viewer', 'operator', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** What a route may need: a role on the resource's project, or the admin key itself. */
export type Requirement = Role | 'admin';

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `held` grants at least what `needed` asks for. */
export function roleAtLeast(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}
