/**
 * Who is calling: the bootstrap admin key, the services' own credential, or an API key with its grants. What a
 * principal may do on a project is {@link accessTo}: `allowed`, `too-low` (it sees the project but its role is
 * below the need: 403) or `hidden` (it holds no grant there: it must not learn the resource exists, so 404).
 */
import type { Grants } from './grants';
import { roleAtLeast, type Requirement, type Role } from './role';

export type Principal =
  | { readonly kind: 'admin'; readonly keyId: 'admin' }
  | { readonly kind: 'service'; readonly keyId: 'service' }
  | { readonly kind: 'key'; readonly keyId: string; readonly grants: Grants };

export const ADMIN: Principal = Object.freeze({ kind: 'admin', keyId: 'admin' } as const);
export const SERVICE: Principal = Object.freeze({ kind: 'service', keyId: 'service' } as const);

export type AccessVerdict = 'allowed' | 'too-low' | 'hidden';

/** The role a principal holds on `project`; the admin key holds every role, the service credential none. */
export function roleOn(principal: Principal, project: string): Role | 'admin' | undefined {
  if (principal.kind === 'admin') return 'admin';
  if (principal.kind === 'service') return undefined;
  return Object.prototype.hasOwnProperty.call(principal.grants, project)
    ? principal.grants[project]
    : undefined;
}

export function accessTo(principal: Principal, project: string, needed: Requirement): AccessVerdict {
  const held = roleOn(principal, project);
  if (held === undefined) return 'hidden';
  if (held === 'admin') return 'allowed';
  if (needed === 'admin') return 'too-low';
  return roleAtLeast(held, needed) ? 'allowed' : 'too-low';
}

/** The projects whose resources a principal may list; undefined: all of them (the admin key). */
export function visibleProjects(principal: Principal): readonly string[] | undefined {
  if (principal.kind === 'admin') return undefined;
  if (principal.kind === 'service') return [];
  return Object.keys(principal.grants).sort();
}
