/**
 * The `tidemark.alerts` handler: fold the alert into its job (RESYNC_REQUIRED and SLICE_REJECTED matter; a
 * rejected slice marks the job blocked), wait for the durable write, commit the offset. A failed fold throws
 * before the commit and the alert is redelivered (folding is idempotent by alert id).
 *
 * `tidemark.alerts` has no dead-letter topic: an alert that cannot be decoded is logged with its position and
 * reason (`undecodable-alert`) and committed, so it cannot stall the job views; it stays readable on the topic
 * for its retention (30 days).
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload, Transport } from '@nestjs/microservices';
import { alertOfRecord } from '@tidemark/bus';
import { JobService } from '@tidemark/jobs';
import { SERVICE_LOGGER, type JsonLogger } from '@tidemark/service-shell';
import { commitAfter } from './commit-offset';
import type { EventPacket } from './event-packet';

export function alertEventsController(topic: string): Type<unknown> {
  @Controller()
  class AlertEventsController {
    constructor(
      @Inject(JobService) private readonly jobs: JobService,
      @Inject(SERVICE_LOGGER) private readonly logger: JsonLogger,
    ) {}

    @EventPattern(topic, Transport.KAFKA)
    async onAlertMessage(@Payload() packet: EventPacket, @Ctx() context: KafkaContext): Promise<void> {
      if (packet.kind === 'alert-raised') {
        await this.jobs.foldAlert(alertOfRecord(packet.event));
      } else if (packet.kind === 'undecodable') {
        this.logger.event({ event: 'undecodable-alert', source: packet.source, reason: packet.reason });
      }
      await commitAfter(context);
    }
  }
  return AlertEventsController;
}
