/**
 * The audit trail's rules (issue 11), as pure functions job-state's HTTP shell calls once per answered request:
 *
 * - what is recorded ({@link shouldAudit}): every request that may change something (POST, PUT, PATCH, DELETE),
 *   accepted or refused, and every refused request of any method (status 400 and above); successful reads are not;
 * - what the request was ({@link auditActionOf}): `<resource>.<verb>` and the resource named, from the method and
 *   the path (`job.start`, `snapshot.delete`, `key.create`, ...; `auth` for a refused credential, 401 or 429);
 * - who asked: an API key's id, `admin`, `service` or `anonymous`, never the key or token;
 * - redaction ({@link AuditTrail.redact}): reasons and paths lose anything shaped like an API key or a bearer
 *   token, and the admin key and service token themselves, and are bounded in length.
 */
import { randomUUID } from 'node:crypto';
import { ANONYMOUS_ACTOR, type AuditEvent, type AuditResource } from '@tidemark/domain';

export const AUDITED_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
export const MAX_AUDIT_REASON = 1_000;
const MAX_AUDIT_PATH = 512;
const MAX_ID = 128;
const REDACTED = '<redacted>';

/**
 * Requests that change no one's job or access and come every few seconds: recorded only when refused. The agent's
 * capture report (`POST /api/v1/agent/capture`, every `TIDEMARK_AGENT_SETTINGS_POLL_MS`) is telemetry, not an action.
 */
const UNAUDITED_WHEN_ACCEPTED: readonly string[] = ['/api/v1/agent/capture'];

/** Whether a request answered with `status` is recorded (`path` without its query). */
export function shouldAudit(method: string, status: number, path?: string): boolean {
  if (status >= 400) return true;
  if (path !== undefined && UNAUDITED_WHEN_ACCEPTED.includes(path.replace(/\/+$/, ''))) return false;
  return AUDITED_METHODS.includes(method.toUpperCase());
}

/** The API's resource collections and the kind of resource each holds. */
const KINDS: Readonly<Record<string, string>> = {
  jobs: 'job',
  snapshots: 'snapshot',
  restores: 'restore',
  projects: 'project',
  keys: 'key',
  agent: 'agent',
  audit: 'audit',
};

/** What a verb of the path may look like (`start`, `progress`, ...); anything else is `unknown`. */
const VERB = /^[a-z][a-z-]{0,31}$/;

/**
 * The action and resource of a request, from its method and path (`/api/v1/<collection>[/<id>[/<verb>]]`). The
 * table of special cases is the API's (docs/api.md); anything else is `<kind>.<create|update|delete|read>`.
 */
export function auditActionOf(
  method: string,
  path: string,
): { readonly action: string; readonly resource: AuditResource } {
  const m = method.toUpperCase();
  const segments = path
    .replace(/^\/+/, '')
    .split('/')
    .map((s) => safeDecode(s));
  if (segments[0] !== 'api' || segments[1] !== 'v1') return { action: 'api.unknown', resource: API };
  const [collection = '', id, sub, ...rest] = segments.slice(2);
  const kind = KINDS[collection];
  if (kind === undefined) return { action: `api.${verbOfMethod(m)}`, resource: API };
  const resource: AuditResource = { kind, id: id === undefined || id === '' ? undefined : id };
  if (rest.length > 0) return { action: `${kind}.unknown`, resource };
  if (kind === 'project' && sub === 'audit') return { action: 'audit.read', resource };
  if (kind === 'job' && sub === 'snapshots')
    return { action: m === 'POST' ? 'snapshot.take' : 'snapshot.read', resource };
  if (m === 'GET') return { action: `${kind}.read`, resource };
  if (sub !== undefined) {
    if (kind === 'job' && m === 'PATCH' && sub === 'settings') return { action: 'job.settings', resource };
    return { action: `${kind}.${m === 'POST' && VERB.test(sub) ? sub : 'unknown'}`, resource };
  }
  if (m === 'POST' && id === undefined)
    return { action: kind === 'restore' ? 'restore.begin' : `${kind}.create`, resource };
  if (m === 'DELETE' && kind === 'key') return { action: 'key.revoke', resource };
  return { action: `${kind}.${verbOfMethod(m)}`, resource };
}

const API: AuditResource = Object.freeze({ kind: 'api', id: undefined });

function verbOfMethod(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
    case 'PATCH':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return 'read';
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** What the HTTP shell knows about one answered request. */
export interface AuditedRequest {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  readonly status: number;
  readonly requestId: string;
  readonly clientAddress: string | undefined;
  /** The caller's key id, `admin` or `service` once authenticated; else the key id the credential names. */
  readonly actor: string | undefined;
  /** The project of the resource the request named, when the access rule found it. */
  readonly project: string | undefined;
  /** Refused: the reason answered. */
  readonly reason: string | undefined;
  /** Job actions: the job's state before, and after an accepted one. */
  readonly stateBefore: string | undefined;
  readonly stateAfter: string | undefined;
  /** The id of a resource the request created (the answer's `id`), when it named none. */
  readonly createdId: string | undefined;
}

export interface AuditTrailOptions {
  /** Strings that must never appear in an event (the admin key, the service token). */
  readonly secrets: readonly string[];
  readonly now?: () => Date;
  readonly newId?: () => string;
}

const ACTOR = /^(?:[0-9a-f]{12}|admin|service)$/;
const KEY_SHAPE = /tmk_([0-9A-Za-z]{0,12})_[A-Za-z0-9_-]+/g;
const BEARER = /(Bearer)\s+\S+/gi;

export class AuditTrail {
  private readonly secrets: readonly string[];
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(options: AuditTrailOptions) {
    this.secrets = options.secrets.filter((s) => s.length >= 8);
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  /** The event to record for this request, or undefined when it is not recorded ({@link shouldAudit}). */
  eventFor(req: AuditedRequest): AuditEvent | undefined {
    if (!shouldAudit(req.method, req.status, req.path.split('?')[0])) return undefined;
    const path = this.redact(req.path.split('?')[0] ?? '', MAX_AUDIT_PATH);
    const what = auditActionOf(req.method, path);
    const authFailure = req.status === 401 || req.status === 429;
    const id = what.resource.id ?? req.createdId;
    const resource: AuditResource = {
      kind: what.resource.kind,
      id: id === undefined ? undefined : this.redact(id, MAX_ID),
    };
    const refused = req.status >= 400;
    const project = req.project ?? (resource.kind === 'project' ? resource.id : undefined);
    return {
      eventId: this.newId(),
      at: this.now(),
      actor: req.actor !== undefined && ACTOR.test(req.actor) ? req.actor : ANONYMOUS_ACTOR,
      project: project === undefined ? undefined : this.redact(project, MAX_ID),
      action: authFailure ? 'auth' : what.action,
      resource,
      outcome: refused ? 'refused' : 'accepted',
      status: req.status,
      stateBefore: req.stateBefore,
      stateAfter: refused ? undefined : req.stateAfter,
      reason: refused ? this.redact(req.reason ?? `answered ${req.status}`, MAX_AUDIT_REASON) : undefined,
      method: req.method.toUpperCase().slice(0, 16),
      path,
      requestId: req.requestId.slice(0, MAX_ID),
      clientAddress: req.clientAddress?.slice(0, MAX_ID),
    };
  }

  /** `text` without anything shaped like an API key or bearer token, nor the known secrets; at most `max` chars. */
  redact(text: string, max: number = MAX_AUDIT_REASON): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    out = out
      .replace(KEY_SHAPE, (_all, id: string) => `tmk_${id}_${REDACTED}`)
      .replace(BEARER, `$1 ${REDACTED}`);
    return out.length > max ? `${out.slice(0, max - 1)}…` : out;
  }
}
