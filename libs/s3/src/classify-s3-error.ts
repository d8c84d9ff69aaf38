/**
 * `classifyS3Error(err)`: is this S3 failure worth a retry? Driven by `S3_ERROR_RULES`.
 */
import { S3_ERROR_RULES, type S3ErrorRule } from './s3-error-rules';

export interface S3ErrorClassification {
  /** True only when a row of the table says a retry can succeed; unknown errors are fatal. */
  retriable: boolean;
  /** The matching row's reason with the error's name, HTTP status and message. */
  reason: string;
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

const MAX_CAUSE_DEPTH = 5;

function names(err: SdkErrorShape): string[] {
  return [err.name, err.code].filter((v): v is string => typeof v === 'string');
}

function httpStatus(err: SdkErrorShape): number | undefined {
  const s = err.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function matches(rule: S3ErrorRule, err: SdkErrorShape): boolean {
  if (rule.kind === 'name') return names(err).includes(rule.name);
  const s = httpStatus(err);
  return s !== undefined && s >= rule.min && s <= rule.max;
}

function describe(err: SdkErrorShape): string {
  const s = httpStatus(err);
  const n = typeof err.name === 'string' ? err.name : 'Error';
  const m = typeof err.message === 'string' ? err.message : '';
  return `${n}${s !== undefined ? ` HTTP ${s}` : ''}: ${m}`;
}

/**
 * Classifies by the first matching row, then by the `cause` chain; unmatched errors are fatal
 * ("unknown error").
 */
export function classifyS3Error(err: unknown): S3ErrorClassification {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
    const shape = current as SdkErrorShape;
    const rule = S3_ERROR_RULES.find((r) => matches(r, shape));
    if (rule) return { retriable: rule.retriable, reason: `${rule.reason} (${describe(shape)})` };
    current = shape.cause;
  }
  const shown = typeof err === 'object' && err !== null ? describe(err as SdkErrorShape) : String(err);
  return { retriable: false, reason: `unknown error (${shown})` };
}
