/**
 * The `tidemark.phases` handler. Its order reads top to bottom: the deserializer already decoded the report (or
 * dead-lettered it); fold it into its job and wait for the majority-acknowledged write (and the effects the fold
 * causes, e.g. deleting an earlier sync's head once a resync completes); commit the offset. A failed fold throws
 * before the commit, so the message is redelivered (folding is idempotent).
 *
 * The topic name depends on `TIDEMARK_TOPIC_PREFIX`, so the controller class is made for a resolved name.
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload, Transport } from '@nestjs/microservices';
import { JobService } from '@tidemark/jobs';
import { phaseReportOf } from '@tidemark/bus';
import { commitAfter } from './commit-offset';
import type { EventPacket } from './event-packet';

export function phaseEventsController(topic: string): Type<unknown> {
  @Controller()
  class PhaseEventsController {
    constructor(@Inject(JobService) private readonly jobs: JobService) {}

    @EventPattern(topic, Transport.KAFKA)
    async onPhaseMessage(@Payload() packet: EventPacket, @Ctx() context: KafkaContext): Promise<void> {
      if (packet.kind === 'phase-changed') {
        await this.jobs.foldPhase(phaseReportOf(packet.event));
      }
      await commitAfter(context);
    }
  }
  return PhaseEventsController;
}
