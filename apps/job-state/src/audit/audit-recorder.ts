/**
 * The one place job-state records the audit trail (docs/api.md, "Audit"): the access guard calls
 * {@link AuditRecorder.refused} for a request it refuses (401, 403, 404, 429, deny by default), and the audit
 * interceptor calls {@link AuditRecorder.answered} for every request that reached its handler, accepted or
 * refused. What is recorded, the action's name and redaction are `AuditTrail` (`@tidemark/access`); storing and
 * publishing are `AuditLog`. The record is stored before the answer is sent; a store that fails does not change
 * the answer (the event is logged whole as `audit-unstored` and published directly).
 * Each request gets an id (a valid `X-Request-Id` it sent, else a new UUID), sent back in `X-Request-Id`.
 */
import { randomUUID } from 'node:crypto';
import { HttpException, HttpStatus } from '@nestjs/common';
import {
  AUDITED_METHODS,
  claimedKeyId,
  shouldAudit,
  type AuditLog,
  type AuditTrail,
  type Principal,
} from '@tidemark/access';
import { TidemarkError } from '@tidemark/domain';
import { httpStatusOf } from '../jobs/job-errors.filter';

/** The parts of Express's request the recorder reads. */
export interface AuditHttpRequest {
  readonly method: string;
  readonly originalUrl?: string;
  readonly url: string;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The part of Express's response the recorder writes. */
export interface AuditHttpResponse {
  setHeader(name: string, value: string): void;
  readonly headersSent?: boolean;
}

interface RequestContext {
  readonly requestId: string;
  principal?: Principal;
  project?: string;
  stateBefore?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export class AuditRecorder {
  private readonly contexts = new WeakMap<object, RequestContext>();

  constructor(
    private readonly trail: AuditTrail,
    private readonly log: AuditLog,
    private readonly jobStateOf: (jobId: string) => Promise<string | undefined>,
  ) {}

  /** The caller, once the guard authenticated it. */
  rememberPrincipal(req: object, principal: Principal): void {
    this.context(req).principal = principal;
  }

  /** The project of the resource the request names, as the access rule found it. */
  rememberProject(req: object, project: string): void {
    this.context(req).project ??= project;
  }

  /** Before a job's handler: the job's state now (the audit's `stateBefore`). */
  async beforeHandler(req: AuditHttpRequest): Promise<void> {
    if (!AUDITED_METHODS.includes(req.method.toUpperCase())) return; // a read changes no state
    const jobId = jobIdOf(req);
    if (jobId !== undefined) this.context(req).stateBefore = await this.jobStateOf(jobId);
  }

  /** Sends the request's id back (`X-Request-Id`), for a request the trail records nothing of unless it fails. */
  identify(req: AuditHttpRequest, res: AuditHttpResponse): void {
    if (res.headersSent !== true) res.setHeader('X-Request-Id', this.context(req).requestId);
  }

  /** A request the guard refused: recorded with the error's status and reason. */
  async refused(req: AuditHttpRequest, res: AuditHttpResponse, err: unknown): Promise<void> {
    await this.record(req, res, statusOfError(err), reasonOfError(err), undefined);
  }

  /** A request its handler answered: `status` when it resolved with `result`, or the error it threw. */
  async answered(
    req: AuditHttpRequest,
    res: AuditHttpResponse,
    outcome: { readonly status: number; readonly result: unknown } | { readonly error: unknown },
  ): Promise<void> {
    if ('error' in outcome) {
      await this.record(req, res, statusOfError(outcome.error), reasonOfError(outcome.error), undefined);
      return;
    }
    const result = outcome.result as { id?: unknown } | null | undefined;
    const createdId = typeof result?.id === 'string' ? result.id : undefined;
    await this.record(req, res, outcome.status, undefined, createdId);
  }

  private async record(
    req: AuditHttpRequest,
    res: AuditHttpResponse,
    status: number,
    reason: string | undefined,
    createdId: string | undefined,
  ): Promise<void> {
    const ctx = this.context(req);
    this.identify(req, res);
    if (!shouldAudit(req.method, status, (req.originalUrl ?? req.url).split('?')[0])) return;
    const accepted = status < 400;
    const jobId = jobIdOf(req);
    const event = this.trail.eventFor({
      method: req.method,
      path: (req.originalUrl ?? req.url).split('?')[0] ?? '',
      status,
      requestId: ctx.requestId,
      clientAddress: clientAddressOf(req),
      actor: ctx.principal?.keyId ?? claimedKeyId(header(req, 'authorization')),
      project: ctx.project,
      reason,
      stateBefore: ctx.stateBefore,
      stateAfter: accepted && jobId !== undefined ? await this.jobStateOf(jobId) : undefined,
      createdId,
    });
    if (event === undefined) return;
    await this.log.record(event);
  }

  private context(req: object): RequestContext {
    let ctx = this.contexts.get(req);
    if (ctx === undefined) {
      const sent = header(req as AuditHttpRequest, 'x-request-id');
      ctx = { requestId: sent !== undefined && REQUEST_ID.test(sent) ? sent : randomUUID() };
      this.contexts.set(req, ctx);
    }
    return ctx;
  }
}

/** The HTTP status an error is answered with (as the errors filter and Nest answer it). */
export function statusOfError(err: unknown): number {
  if (err instanceof TidemarkError) return httpStatusOf(err);
  if (err instanceof HttpException) return err.getStatus();
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

function reasonOfError(err: unknown): string {
  if (err instanceof HttpException) {
    const body = err.getResponse();
    const message =
      typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    if (Array.isArray(message)) return message.map(String).join('; ');
    if (typeof message === 'string') return message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The job a `/api/v1/jobs/:id/...` request names. */
function jobIdOf(req: AuditHttpRequest): string | undefined {
  const path = (req.originalUrl ?? req.url).split('?')[0] ?? '';
  const id = req.params['id'];
  return id !== undefined && path.startsWith('/api/v1/jobs/') ? id : undefined;
}

function header(req: AuditHttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The TCP peer's address (an IPv4 address mapped into IPv6 shown as IPv4). */
export function clientAddressOf(req: AuditHttpRequest): string | undefined {
  const raw = req.ip ?? req.socket?.remoteAddress;
  return raw?.startsWith('::ffff:') === true ? raw.slice('::ffff:'.length) : raw;
}
