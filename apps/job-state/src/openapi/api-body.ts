/**
 * How job-state reads request bodies and answers errors that no handler's filter turns into an answer: JSON only
 * (another media type 415), at most {@link API_BODY_LIMIT_BYTES} (413), nested at most `MAX_JSON_DEPTH` levels (400, checked on the raw bytes
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
  /** The limit a too large body passed (raw-body sets it). */
  readonly limit?: number;
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
  if (err.type === 'entity.too.large') {
    const limit = err.limit ?? API_BODY_LIMIT_BYTES;
    return `the body is larger than ${limit} bytes${limit === API_BODY_LIMIT_BYTES ? ' (1 MiB)' : ''}, the most the API reads`;
  }
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

/** The part of a request {@link refuseNonJson} reads, and of the answer it writes. */
interface BodyRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}
interface JsonAnswer {
  status(code: number): { json(body: unknown): void };
}

/**
 * Bodies are JSON: a request with a body of another media type (a form, text) is answered 415 before any parser
 * reads it, so no other parser (Nest registers a form parser by default) turns it into an object.
 */
function refuseNonJson(req: BodyRequest, res: JsonAnswer, next: () => void): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (!hasBody || type === 'application/json') {
    next();
    return;
  }
  res.status(415).json({
    statusCode: 415,
    message: `the body must be JSON (content-type: application/json), not ${JSON.stringify(type.slice(0, 100) || 'untyped')}`,
    error: STATUS_CODES[415],
  });
}

/**
 * Before the app listens: the body parser, the errors filter, and the OpenAPI document of `modules` (their
 * controllers are the API).
 */
export function configureApi(app: INestApplication, modules: Type<unknown>[]): void {
  app.use(refuseNonJson);
  (app as NestExpressApplication).useBodyParser('json', {
    limit: API_BODY_LIMIT_BYTES,
    verify: refuseDeepJson,
  });
  app.useGlobalFilters(new ApiErrorsFilter(app.getHttpAdapter()));
  app.get(OpenApiDocument).set(buildOpenApiDocument(app, modules));
}
