/**
 * `GET /healthz`: liveness, 200 while the process runs and the event loop answers.
 * `GET /readyz`: readiness, 200 `{status:"ready", checks:{...}}` or 503 with the failing check's reason.
 */
import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { PublicRoute } from '../public-route';
import { Readiness, type ReadinessReport } from './readiness';

@Controller()
@PublicRoute()
export class HealthController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  liveness(): { status: 'alive' } {
    return { status: 'alive' };
  }

  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  async readyz(): Promise<ReadinessReport> {
    const report = await this.readiness.evaluate();
    if (report.status !== 'ready') throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
