/** `GET /metrics`: the service's Prometheus metrics in the text exposition format. */
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { prometheusContentType } from 'prom-client';
import { SERVICE_METRICS } from '../tokens';
import { PublicRoute } from '../public-route';
import type { ServiceMetrics } from './service-metrics';

@Controller()
@PublicRoute()
export class MetricsController {
  constructor(@Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics) {}

  @Get('metrics')
  @Header('Content-Type', prometheusContentType)
  @Header('Cache-Control', 'no-store')
  metricsText(): Promise<string> {
    return this.metrics.scrape();
  }
}
