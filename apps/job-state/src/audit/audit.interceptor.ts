/**
 * The global interceptor of job-state (`APP_INTERCEPTOR`): for every request that passed the access guard, reads
 * a job's state before its handler and records the answer in the audit trail (`AuditRecorder.answered`) before it
 * is sent: the handler's result with the status Nest will answer (`@HttpCode`, else 201 for POST and 200 for the
 * rest), or the error it threw (rethrown unchanged for the errors filter). A read is passed through as it is (a
 * stream keeps streaming); only an error it ends with is recorded.
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { Reflector } from '@nestjs/core';
import { AUDITED_METHODS } from '@tidemark/access';
import { PUBLIC_ROUTE } from '@tidemark/service-shell';
import { catchError, from, lastValueFrom, mergeMap, throwError, type Observable } from 'rxjs';
import type { AuditHttpRequest, AuditHttpResponse, AuditRecorder } from './audit-recorder';

export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditRecorder,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (ctx.getType() !== 'http' || this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true)
      return next.handle();
    const req = ctx.switchToHttp().getRequest<AuditHttpRequest>();
    const res = ctx.switchToHttp().getResponse<AuditHttpResponse>();
    if (!AUDITED_METHODS.includes(req.method.toUpperCase())) {
      // A read changes nothing: only a refused one is recorded. Its answer is not awaited here, so a stream (the
      // Backup page's server-sent events) flows as its handler emits it.
      this.audit.identify(req, res);
      return next
        .handle()
        .pipe(
          catchError((error: unknown) =>
            from(this.audit.answered(req, res, { error })).pipe(mergeMap(() => throwError(() => error))),
          ),
        );
    }
    const status =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, ctx.getHandler()) ??
      (req.method === 'POST' ? 201 : 200);
    return from(
      (async () => {
        await this.audit.beforeHandler(req);
        let result: unknown;
        try {
          result = await lastValueFrom(next.handle(), { defaultValue: undefined });
        } catch (error) {
          await this.audit.answered(req, res, { error });
          throw error;
        }
        await this.audit.answered(req, res, { status, result });
        return result;
      })(),
    );
  }
}
