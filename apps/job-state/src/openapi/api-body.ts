/**
 * How job-state reads request bodies and answers errors that no handler's filter turns into an answer: JSON only,
 * at most {@link API_BODY_LIMIT_BYTES} (413), nested at most `MAX_JSON_DEPTH` levels (400, checked on the raw bytes
 * before parsing), malformed JSON 400, another charset 415, each as `{ statusCode, message, error }`
 * (docs/api.md, "Errors"). Anything else that is not an HTTP error stays Nest's 500.
 */
import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, type ArgumentsHost, type INestApplication, type Type } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { jsonNestingDepth, MAX_JSON_DEPTH } from '@tidemark/util';
import { buildOpenApiDocument, OpenApiDocument } from './openapi-document';

/** The largest request body job-state reads: 1 MiB (the largest real one, a restore's progress, is far below). */
export const API_BODY_LIMIT_BYTES = 1024 * 1024;

/** An error the body parser passes on with its status (the `http-errors` shape). */
interface ParserError {
  readonly status: number;
  readonly type?: string;
  readonly message: string;
}

const isParserError = (err: unknown): err is ParserError =>
  typeof err === 'object' &&
  err !== null &&
  typeof (err as ParserError).status === 'number' &&
  (err as ParserError).status >= 400 &&
  (err as ParserError).status < 500;

function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer): void {
  if (jsonNestingDepth(buf, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw Object.assign(new Error(`the body nests deeper than ${MAX_JSON_DEPTH} levels`), {
      status: 400,
      type: 'entity.too.deep',
    });
}

/** The reason an answer gives for a parser's error. */
function reasonOf(err: ParserError): string {
  if (err.type === 'entity.too.large')
    return `the body is larger than ${API_BODY_LIMIT_BYTES} bytes (1 MiB), the most the API reads`;
  if (err.type === 'entity.parse.failed') return `the body is not valid JSON: ${err.message}`;
  return err.message;
}

/** Errors that reach no handler's filter: the body parser's, unknown routes, Nest's own HTTP exceptions. */
@Catch()
export class ApiErrorsFilter extends BaseExceptionFilter {
  override catch(err: unknown, host: ArgumentsHost): void {
    if (err instanceof HttpException || !isParserError(err)) {
      super.catch(err, host);
      return;
    }
    const res = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    res.status(err.status).json({
      statusCode: err.status,
      message: reasonOf(err),
      error: STATUS_CODES[err.status] ?? 'Error',
    });
  }
}

/**
 * Before the app listens: the body parser, the errors filter, and the OpenAPI document of `modules` (their
 * controllers are the API).
 */
export function configureApi(app: INestApplication, modules: Type<unknown>[]): void {
  (app as NestExpressApplication).useBodyParser('json', {
    limit: API_BODY_LIMIT_BYTES,
    verify: refuseDeepJson,
  });
  app.useGlobalFilters(new ApiErrorsFilter(app.getHttpAdapter()));
  app.get(OpenApiDocument).set(buildOpenApiDocument(app, modules));
}
