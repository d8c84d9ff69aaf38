/**
 * The query of the alert lists (`GET /api/v1/projects/:name/alerts`, `GET /api/v1/jobs/:id/alerts`), checked:
 * `state` is `open` (default), `closed` or `all`; `limit` a whole number 1..1000 (default 100); nothing else.
 */
import { TidemarkError } from '@tidemark/domain';
import type { AlertEntryState } from './alert-store';

/** Default page of the alert lists. */
export const DEFAULT_ALERT_LIMIT = 100;
const MAX_LIMIT = 1_000;
const KNOWN = new Set(['state', 'limit']);

/** An alert list query is invalid; `problems` lists every reason. Not retriable; the API answers 400. */
export class AlertValidationError extends TidemarkError {
  override readonly name: string = 'AlertValidationError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid alert query: ${problems.join('; ')}`, { retriable: false });
  }
}

export function parseAlertQuery(query: Readonly<Record<string, unknown>>): {
  state?: AlertEntryState;
  limit: number;
} {
  const problems: string[] = [];
  for (const key of Object.keys(query)) if (!KNOWN.has(key)) problems.push(`unknown parameter ${key}`);
  const state = query['state'] ?? 'open';
  if (state !== 'open' && state !== 'closed' && state !== 'all')
    problems.push('state must be open, closed or all');
  const limitText = query['limit'];
  let limit = DEFAULT_ALERT_LIMIT;
  if (limitText !== undefined) {
    const n = typeof limitText === 'string' && /^\d{1,7}$/.test(limitText) ? Number(limitText) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
      problems.push(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
    else limit = n;
  }
  if (problems.length > 0) throw new AlertValidationError(problems);
  return { ...(state === 'open' || state === 'closed' ? { state } : {}), limit };
}
