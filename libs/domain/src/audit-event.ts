/**
 * Audit events: one per request to job-state's API that changed something or was refused (issue 11). Who asked
 * (`actor`: an API key's id, `admin`, `service` or `anonymous`, never a key or token), what (`action` on
 * `resource`), when, from which state (`stateBefore` of a job), and why it was refused. job-state stores each in
 * its audit collection and publishes it (`AuditEventPublisher`; on Kafka `AuditEvent` on `tidemark.audit` through
 * `@tidemark/bus` audit-mapping). Building, deciding and redacting them is `@tidemark/access` (`audit-trail.ts`).
 */

export const AUDIT_OUTCOMES = ['accepted', 'refused'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Who asked when no key names the caller. */
export const ANONYMOUS_ACTOR = 'anonymous';

export interface AuditResource {
  /** `job`, `snapshot`, `restore`, `project`, `key`, `audit`, `agent`, or `api` when the request named none. */
  readonly kind: string;
  readonly id: string | undefined;
}

export interface AuditEvent {
  readonly eventId: string;
  readonly at: Date;
  /** A key id, `admin`, `service` or `anonymous`. */
  readonly actor: string;
  readonly project: string | undefined;
  /** `<resource>.<verb>`, e.g. `job.start`, `key.create`, `auth`. */
  readonly action: string;
  readonly resource: AuditResource;
  readonly outcome: AuditOutcome;
  /** The HTTP status answered. */
  readonly status: number;
  readonly stateBefore: string | undefined;
  readonly stateAfter: string | undefined;
  /** Refused: why (redacted, bounded). */
  readonly reason: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly requestId: string;
  readonly clientAddress: string | undefined;
}
