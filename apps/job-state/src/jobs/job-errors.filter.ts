/**
 * Turns the errors of `@tidemark/jobs` into HTTP answers with the reason, in Nest's error shape
 * `{ statusCode, message, error }`: not found 404, invalid input 400 (`problems` lists every reason), an illegal
 * transition or a concurrent change 409, anything retriable 503, other TidemarkErrors 500. Errors that are not
 * TidemarkErrors (Nest's own HttpExceptions included) go to Nest's default handling.
 */
import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { IllegalTransitionError, TidemarkError } from '@tidemark/domain';
import {
  JobConflictError,
  JobNotFoundError,
  JobValidationError,
  RestoreNotAllowedError,
  RestoreNotFoundError,
  RestoreValidationError,
  SnapshotNotAllowedError,
  SnapshotNotFoundError,
} from '@tidemark/jobs';

export function httpStatusOf(err: TidemarkError): number {
  if (
    err instanceof JobNotFoundError ||
    err instanceof SnapshotNotFoundError ||
    err instanceof RestoreNotFoundError
  )
    return HttpStatus.NOT_FOUND;
  if (err instanceof JobValidationError || err instanceof RestoreValidationError)
    return HttpStatus.BAD_REQUEST;
  if (
    err instanceof IllegalTransitionError ||
    err instanceof JobConflictError ||
    err instanceof SnapshotNotAllowedError ||
    err instanceof RestoreNotAllowedError
  )
    return HttpStatus.CONFLICT;
  if (err.retriable) return HttpStatus.SERVICE_UNAVAILABLE;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The part of Express's response the filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
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
    if (err instanceof JobValidationError || err instanceof RestoreValidationError)
      body['problems'] = err.problems;
    host.switchToHttp().getResponse<JsonResponse>().status(status).json(body);
  }
}
