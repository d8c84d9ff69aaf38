/**
 * Turns the errors of `@tidemark/jobs` and `@tidemark/access` into HTTP answers with the reason, in Nest's error
 * shape `{ statusCode, message, error }`: no or a bad credential 401 (with `WWW-Authenticate: Bearer`), a role too
 * low 403 (`requiredRole`), not found 404 (also what a caller without a grant on the project gets), invalid input
 * 400 (`problems` lists every reason), an illegal transition or a concurrent change 409, too many failed
 * authentications 429 (with `Retry-After`), anything retriable 503,
 * other TidemarkErrors 500. Errors that are not TidemarkErrors (Nest's own HttpExceptions included) go to Nest's
 * default handling. A 409 for an action the state machine refuses also carries the job's `state` and the
 * `allowedActions` there.
 */
import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import {
  AccessDeniedError,
  AccessValidationError,
  ApiKeyNotFoundError,
  ProjectConflictError,
  ProjectNotFoundError,
  TooManyAuthFailuresError,
  UnauthenticatedError,
} from '@tidemark/access';
import { IllegalTransitionError, TidemarkError } from '@tidemark/domain';
import {
  AlertValidationError,
  JobConflictError,
  JobNotFoundError,
  JobValidationError,
  RestoreNotAllowedError,
  RestoreNotFoundError,
  RestoreValidationError,
  SnapshotNotAllowedError,
  SnapshotNotFoundError,
  userActionsAllowed,
} from '@tidemark/jobs';

export function httpStatusOf(err: TidemarkError): number {
  if (err instanceof UnauthenticatedError) return HttpStatus.UNAUTHORIZED;
  if (err instanceof TooManyAuthFailuresError) return HttpStatus.TOO_MANY_REQUESTS;
  if (err instanceof AccessDeniedError) return HttpStatus.FORBIDDEN;
  if (
    err instanceof ProjectNotFoundError ||
    err instanceof ApiKeyNotFoundError ||
    err instanceof JobNotFoundError ||
    err instanceof SnapshotNotFoundError ||
    err instanceof RestoreNotFoundError
  )
    return HttpStatus.NOT_FOUND;
  if (isValidationError(err)) return HttpStatus.BAD_REQUEST;
  if (
    err instanceof ProjectConflictError ||
    err instanceof IllegalTransitionError ||
    err instanceof JobConflictError ||
    err instanceof SnapshotNotAllowedError ||
    err instanceof RestoreNotAllowedError
  )
    return HttpStatus.CONFLICT;
  if (err.retriable) return HttpStatus.SERVICE_UNAVAILABLE;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

function isValidationError(
  err: TidemarkError,
): err is JobValidationError | RestoreValidationError | AccessValidationError | AlertValidationError {
  return (
    err instanceof AlertValidationError ||
    err instanceof JobValidationError ||
    err instanceof RestoreValidationError ||
    err instanceof AccessValidationError
  );
}

const ERROR_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The part of Express's response the filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

@Catch(TidemarkError)
export class JobErrorsFilter implements ExceptionFilter {
  catch(err: TidemarkError, host: ArgumentsHost): void {
    const status = httpStatusOf(err);
    const body: Record<string, unknown> = {
      statusCode: status,
      message: err.message,
      error: ERROR_NAMES[status],
    };
    if (isValidationError(err)) body['problems'] = err.problems;
    if (err instanceof AccessDeniedError) body['requiredRole'] = err.needed;
    if (err instanceof IllegalTransitionError) {
      // What the caller needs to choose again: the job's state now and the actions it allows.
      body['state'] = err.from;
      body['allowedActions'] = userActionsAllowed(err.from);
    }
    if (err instanceof SnapshotNotAllowedError) body['state'] = err.state;
    const res = host.switchToHttp().getResponse<JsonResponse>();
    if (err instanceof UnauthenticatedError) res.setHeader('WWW-Authenticate', 'Bearer realm="tidemark"');
    if (err instanceof TooManyAuthFailuresError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    res.status(status).json(body);
  }
}
