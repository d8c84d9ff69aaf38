/**
 * The global interceptor of job-state (`APP_INTERCEPTOR`): for every request that passed the access guard, reads
 * a job's state before its handler and records the answer in the audit trail (`AuditRecorder.answered`) before it
 * is sent: the handler's result with the status Nest will answer (`@HttpCode`, else 201 for POST and 200 for the
 * rest), or the error it threw (rethrown unchanged for the errors filter).
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '@tidemark/service-shell';
import { from, lastValueFrom, type Observable } from 'rxjs';
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
