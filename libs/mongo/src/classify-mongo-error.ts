/**
 * `classifyMongoError(err)`: is this MongoDB failure worth a retry? Driven by `MONGO_ERROR_RULES`.
 */
import { MongoError, MongoServerError } from 'mongodb';
import { MONGO_ERROR_RULES, type MongoErrorRule } from './mongo-error-rules';

export interface ErrorClassification {
  /** True only when a row of the table says a retry can succeed; unknown errors are fatal. */
  retriable: boolean;
  /** Human-readable: the matching row's reason and the error's own name and message. */
  reason: string;
}

const MAX_CAUSE_DEPTH = 5;

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function serverCode(err: unknown): number | undefined {
  if (err instanceof MongoServerError && typeof err.code === 'number') return err.code;
  if (err instanceof MongoError && typeof err.code === 'number') return err.code;
  return undefined;
}

function causeCode(err: unknown): string | undefined {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

function matches(rule: MongoErrorRule, err: unknown): boolean {
  switch (rule.kind) {
    case 'label':
      return err instanceof MongoError && err.hasErrorLabel(rule.label);
    case 'tls-cause':
      return causeCode(err) === rule.code;
    case 'code':
      return serverCode(err) === rule.code;
    case 'class':
      return err instanceof rule.type;
  }
}

function findRule(err: unknown): MongoErrorRule | undefined {
  return MONGO_ERROR_RULES.find((rule) => matches(rule, err));
}

/**
 * Classifies by the first matching row; when no row matches, by the error's `cause` chain (so a wrapped
 * driver error keeps its verdict); when nothing matches, fatal with reason "unknown error".
 */
export function classifyMongoError(err: unknown): ErrorClassification {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    const rule = findRule(current);
    if (rule) return { retriable: rule.retriable, reason: `${rule.reason} (${describe(current)})` };
    current = current instanceof Error ? current.cause : undefined;
  }
  return { retriable: false, reason: `unknown error (${describe(err)})` };
}
