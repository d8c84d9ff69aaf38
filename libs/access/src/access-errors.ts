/**
 * Errors of access control, each with the HTTP status job-state answers: no or a bad credential 401
 * ({@link UnauthenticatedError}), a grant too low 403 ({@link AccessDeniedError}), a project or key the caller
 * may not know exists 404 (the same error as one that does not exist), a conflict 409, bad input 400. No message
 * ever quotes a key or a token.
 */
import { TidemarkError } from '@tidemark/domain';
import type { Requirement } from './role';

/** No credential, a malformed one, an unknown, wrong or revoked key, or the wrong kind of credential. 401. */
export class UnauthenticatedError extends TidemarkError {
  override readonly name: string = 'UnauthenticatedError';
  constructor(readonly reason: string) {
    super(reason, { retriable: false });
  }
}

/** The caller can see the resource but its role is below what the action needs. 403. */
export class AccessDeniedError extends TidemarkError {
  override readonly name: string = 'AccessDeniedError';
  constructor(
    readonly needed: Requirement,
    readonly project: string | undefined,
  ) {
    super(
      needed === 'admin'
        ? 'this needs the admin key'
        : `this needs the role ${needed} on project ${project ?? '(none)'}`,
      { retriable: false },
    );
  }
}

/** No such project, or one the caller holds no grant on. 404. */
export class ProjectNotFoundError extends TidemarkError {
  override readonly name: string = 'ProjectNotFoundError';
  constructor(readonly project: string) {
    super(`project ${project} not found`, { retriable: false });
  }
}

/** No such API key, or one the caller may not manage. 404. */
export class ApiKeyNotFoundError extends TidemarkError {
  override readonly name: string = 'ApiKeyNotFoundError';
  constructor(readonly keyId: string) {
    super(`API key ${keyId} not found`, { retriable: false });
  }
}

/** A project of that name exists already (409), or still holds jobs and cannot be deleted (409). */
export class ProjectConflictError extends TidemarkError {
  override readonly name: string = 'ProjectConflictError';
  constructor(
    readonly project: string,
    message: string,
  ) {
    super(message, { retriable: false });
  }
}

/** A request body about projects or keys is invalid; `problems` lists every reason. 400. */
export class AccessValidationError extends TidemarkError {
  override readonly name: string = 'AccessValidationError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid request: ${problems.join('; ')}`, { retriable: false });
  }
}

/** The admin key or the service token is missing or unusable at start-up. */
export class AccessConfigError extends TidemarkError {
  override readonly name: string = 'AccessConfigError';
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/**
 * Too many failed authentications from this client address or for this key id inside the window
 * (`KeyGuessLimiter`): refused before the credential is checked. 429 with `Retry-After`.
 */
export class TooManyAuthFailuresError extends TidemarkError {
  override readonly name: string = 'TooManyAuthFailuresError';
  /** Whole seconds to wait (at least 1). */
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(`too many failed authentications from this client or for this key: try again in ${seconds} s`, {
      retriable: false,
    });
    this.retryAfterSeconds = seconds;
  }
}
