/**
 * `AccessService`: who a request comes from, and projects and API keys as resources.
 *
 * - {@link AccessService.authenticate} turns an `Authorization` header into a {@link Principal} or throws
 *   {@link UnauthenticatedError} (401). The admin key and the service token are compared in constant time (over
 *   their SHA-256, so lengths never leak); an API key is looked up by its public id on EVERY request (a revoked key
 *   is refused at once, on every replica) and its secret checked with scrypt, whose success is remembered for
 *   `verifiedTtlMs` (default 60 s) keyed by the SHA-256 of the whole key, so a request rarely pays scrypt.
 *   `lastUsedAt` is written at most once per `touchIntervalMs` (default 60 s) per key.
 * - Projects: created and deleted by the admin key only; read by any key with a grant on them; deleted only when
 *   no job is in them (`jobsInProject`), which also drops every key's grant on them.
 * - Keys: created by the admin key, or by a key that is `owner` of every project in the new key's grants (it
 *   cannot mint a grant on a project it does not own, and there is no role above owner); listed and revoked by the
 *   admin key, or by an owner of every project the key grants. A project or key the caller may not see is 404, as
 *   if it did not exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TidemarkError } from '@tidemark/domain';
import { schemaCheck } from '@tidemark/util';
import {
  AccessDeniedError,
  AccessValidationError,
  ApiKeyNotFoundError,
  ProjectConflictError,
  ProjectNotFoundError,
  TooManyAuthFailuresError,
  UnauthenticatedError,
} from './access-errors';
import { apiKeyPrefix, generateApiKey, hashSecret, parseApiKey, verifySecret } from './api-key';
import { parseGrants, type Grants } from './grants';
import type { GuessSubjects, KeyGuessLimiter } from './key-guess-limiter';
import { CREATE_KEY_REQUEST_SCHEMA, CREATE_PROJECT_REQUEST_SCHEMA } from './api-schemas';
import type { AccessStore, ApiKeyRecord, ProjectRecord } from './ports';
import { ADMIN, SERVICE, accessTo, roleOn, type Principal } from './principal';
import { projectNameProblems } from './project-name';

export const DEFAULT_VERIFIED_TTL_MS = 60_000;
export const DEFAULT_TOUCH_INTERVAL_MS = 60_000;
const MAX_VERIFIED = 10_000;
const KEY_ID_ATTEMPTS = 5;

export interface AccessServiceOptions {
  readonly store: AccessStore;
  readonly adminKey: string;
  readonly serviceToken: string;
  /** How many jobs a project holds (0: it may be deleted). */
  readonly jobsInProject: (project: string) => Promise<number>;
  readonly now?: () => Date;
  readonly verifiedTtlMs?: number;
  readonly touchIntervalMs?: number;
  /** Failed authentications per client address and key id; without it nothing is limited. */
  readonly keyGuessLimiter?: KeyGuessLimiter;
}

/** A key as the API shows it: never its secret nor its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly prefix: string;
  readonly grants: Grants;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface ProjectView {
  readonly name: string;
  readonly createdAt: string;
}

/** The bodies' JSON Schemas (`api-schemas.ts`), after the precise checks of names and grants. */
const checkCreateProject = schemaCheck(CREATE_PROJECT_REQUEST_SCHEMA);
const checkCreateKey = schemaCheck(CREATE_KEY_REQUEST_SCHEMA);

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function sameSecret(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  return {
    id: k.id,
    prefix: apiKeyPrefix(k.id),
    grants: { ...k.grants },
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export function projectView(p: ProjectRecord): ProjectView {
  return { name: p.name, createdAt: p.createdAt.toISOString() };
}

export class AccessService {
  private readonly store: AccessStore;
  private readonly adminDigest: Buffer;
  private readonly serviceDigest: Buffer;
  private readonly now: () => Date;
  private readonly verifiedTtlMs: number;
  private readonly touchIntervalMs: number;
  /** key id -> SHA-256 of the whole key that passed scrypt, and until when that is trusted. */
  private readonly verified = new Map<string, { digest: Buffer; until: number }>();
  /** key id -> when this process last wrote its `lastUsedAt`. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly options: AccessServiceOptions) {
    this.store = options.store;
    this.adminDigest = sha256(options.adminKey);
    this.serviceDigest = sha256(options.serviceToken);
    this.now = options.now ?? (() => new Date());
    this.verifiedTtlMs = options.verifiedTtlMs ?? DEFAULT_VERIFIED_TTL_MS;
    this.touchIntervalMs = options.touchIntervalMs ?? DEFAULT_TOUCH_INTERVAL_MS;
  }

  /**
   * The caller of a request with this `Authorization` header value, sent from `clientAddress`. A credential that
   * fails (malformed, unknown key id, wrong secret; not a revoked key) counts against the address and the key id it names;
   * over the limit ({@link KeyGuessLimiter}) the attempt is refused with {@link TooManyAuthFailuresError} before
   * the key is looked up or scrypt runs. The admin key, the service token and a key that passed scrypt recently
   * (same whole key) are never limited.
   */
  async authenticate(authorization: string | undefined, clientAddress?: string): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '')
      throw new UnauthenticatedError('no credential: send "Authorization: Bearer <API key>"');
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    const nowMs = this.now().getTime();
    if (m === null) {
      this.limitGuesses({ address: clientAddress, keyId: undefined }, nowMs);
      throw this.failed(
        { address: clientAddress, keyId: undefined },
        nowMs,
        'malformed Authorization header: use "Bearer <API key>"',
      );
    }
    const token = m[1]!;
    const digest = sha256(token);
    if (sameSecret(digest, this.serviceDigest)) return SERVICE;
    if (sameSecret(digest, this.adminDigest)) return ADMIN;
    const parsed = parseApiKey(token);
    const subjects = { address: clientAddress, keyId: parsed?.id };
    const cached = parsed === undefined ? undefined : this.verified.get(parsed.id);
    const trusted = cached !== undefined && cached.until >= nowMs && sameSecret(cached.digest, digest);
    if (!trusted) this.limitGuesses(subjects, nowMs);
    if (parsed === undefined)
      throw this.failed(subjects, nowMs, 'malformed API key: expected tmk_<id>_<secret>');
    const key = await this.store.getKey(parsed.id);
    if (key === undefined) throw this.failed(subjects, nowMs, 'unknown API key');
    // A revoked key is not counted as a guess: it cannot authenticate whatever its secret, and a stale client
    // that still sends it must not lock out its address.
    if (key.revokedAt !== undefined) throw new UnauthenticatedError(`API key ${key.id} is revoked`);
    if (!trusted) {
      if (!(await verifySecret(parsed.secret, key))) throw this.failed(subjects, nowMs, 'unknown API key');
      this.remember(key.id, digest, nowMs);
    }
    await this.touch(key, nowMs);
    return { kind: 'key', keyId: key.id, grants: key.grants };
  }

  /** Throws {@link TooManyAuthFailuresError} when these subjects failed too often lately. */
  private limitGuesses(subjects: GuessSubjects, nowMs: number): void {
    const wait = this.options.keyGuessLimiter?.retryAfterMs(subjects, nowMs) ?? 0;
    if (wait > 0) throw new TooManyAuthFailuresError(wait);
  }

  /** Counts a failed authentication and returns its 401. */
  private failed(subjects: GuessSubjects, nowMs: number, reason: string): UnauthenticatedError {
    this.options.keyGuessLimiter?.recordFailure(subjects, nowMs);
    return new UnauthenticatedError(reason);
  }

  // ---- projects

  async createProject(principal: Principal, body: unknown): Promise<ProjectRecord> {
    if (principal.kind !== 'admin') throw new AccessDeniedError('admin', undefined);
    const name =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['name'] : undefined;
    const problems = projectNameProblems(name, 'name');
    const extra =
      typeof body === 'object' && body !== null ? Object.keys(body).filter((k) => k !== 'name') : [];
    if (extra.length > 0) problems.push(`unknown field(s): ${extra.slice(0, 5).join(', ')}`);
    if (problems.length > 0) throw new AccessValidationError(problems);
    const structural = checkCreateProject(body);
    if (structural.length > 0) throw new AccessValidationError(structural);
    const project: ProjectRecord = { name: name as string, createdAt: this.now() };
    if (!(await this.store.insertProject(project)))
      throw new ProjectConflictError(project.name, `project ${project.name} exists already`);
    return project;
  }

  /** The project of that name, whoever asks (the access guard's existence check). */
  projectRecord(name: string): Promise<ProjectRecord | undefined> {
    return this.store.getProject(name);
  }

  /** The projects the principal holds a grant on (all of them for the admin key). */
  async listProjects(principal: Principal): Promise<ProjectRecord[]> {
    if (principal.kind === 'admin') return this.store.listProjects();
    if (principal.kind === 'service') return [];
    return this.store.listProjects(Object.keys(principal.grants));
  }

  /** The project, if it exists and the principal holds a grant on it; else {@link ProjectNotFoundError}. */
  async getProject(principal: Principal, name: string): Promise<ProjectRecord> {
    const project = projectNameProblems(name).length === 0 ? await this.store.getProject(name) : undefined;
    if (project === undefined || accessTo(principal, name, 'viewer') === 'hidden')
      throw new ProjectNotFoundError(name);
    return project;
  }

  async deleteProject(principal: Principal, name: string): Promise<ProjectRecord> {
    const project = await this.getProject(principal, name);
    if (principal.kind !== 'admin') throw new AccessDeniedError('admin', name);
    const jobs = await this.options.jobsInProject(name);
    if (jobs > 0)
      throw new ProjectConflictError(
        name,
        `project ${name} still holds ${jobs === 1 ? 'a job' : `${jobs} jobs`}: terminate and delete them first`,
      );
    if (!(await this.store.deleteProject(name))) throw new ProjectNotFoundError(name);
    return project;
  }

  // ---- keys

  /** A new key with `body.grants`; its whole value is in `token`, the only time it is ever shown. */
  async createKey(principal: Principal, body: unknown): Promise<{ key: ApiKeyRecord; token: string }> {
    const raw = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    if (raw === undefined) throw new AccessValidationError(['the body must be a JSON object with grants']);
    const parsed = parseGrants(raw['grants']);
    if (!('grants' in parsed)) throw new AccessValidationError(parsed.problems);
    // Who may grant these comes before the rest of the body, so a caller learns nothing it may not see.
    for (const project of Object.keys(parsed.grants).sort()) {
      await this.getProject(principal, project);
      if (accessTo(principal, project, 'owner') !== 'allowed') throw new AccessDeniedError('owner', project);
    }
    const extra = Object.keys(raw).filter((k) => k !== 'grants');
    if (extra.length > 0)
      throw new AccessValidationError([`unknown field(s): ${extra.slice(0, 5).join(', ')}`]);
    const structural = checkCreateKey(body);
    if (structural.length > 0) throw new AccessValidationError(structural);
    for (let attempt = 1; ; attempt++) {
      const generated = generateApiKey();
      const hashed = await hashSecret(generated.secret);
      const key: ApiKeyRecord = {
        id: generated.id,
        ...hashed,
        grants: parsed.grants,
        createdAt: this.now(),
        createdBy: principal.keyId,
        lastUsedAt: undefined,
        revokedAt: undefined,
      };
      if (await this.store.insertKey(key)) return { key, token: generated.token };
      if (attempt >= KEY_ID_ATTEMPTS)
        throw new TidemarkError(`no free key id after ${KEY_ID_ATTEMPTS} attempts`, { retriable: true });
    }
  }

  /** The keys the principal manages: all for the admin key; for a key, those granting only projects it owns. */
  async listKeys(principal: Principal): Promise<ApiKeyRecord[]> {
    return (await this.store.listKeys()).filter((k) => this.manages(principal, k));
  }

  async revokeKey(principal: Principal, id: string): Promise<ApiKeyRecord> {
    const key = /^[0-9a-f]{12}$/.test(id) ? await this.store.getKey(id) : undefined;
    if (key === undefined || !this.manages(principal, key)) throw new ApiKeyNotFoundError(id);
    await this.store.revokeKey(id, this.now());
    this.verified.delete(id);
    return (await this.store.getKey(id)) ?? key;
  }

  private manages(principal: Principal, key: ApiKeyRecord): boolean {
    if (principal.kind === 'admin') return true;
    const projects = Object.keys(key.grants);
    return projects.length > 0 && projects.every((p) => roleOn(principal, p) === 'owner');
  }

  private remember(id: string, digest: Buffer, nowMs: number): void {
    this.verified.delete(id);
    if (this.verified.size >= MAX_VERIFIED) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(id, { digest, until: nowMs + this.verifiedTtlMs });
  }

  private async touch(key: ApiKeyRecord, nowMs: number): Promise<void> {
    const last = Math.max(key.lastUsedAt?.getTime() ?? 0, this.touched.get(key.id) ?? 0);
    if (nowMs - last < this.touchIntervalMs) return;
    this.touched.set(key.id, nowMs);
    if (this.touched.size > MAX_VERIFIED) {
      const oldest = this.touched.keys().next();
      if (!oldest.done) this.touched.delete(oldest.value);
    }
    await this.store.touchKey(key.id, new Date(nowMs));
  }
}
