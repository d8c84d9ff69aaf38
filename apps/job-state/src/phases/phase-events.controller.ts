/**
 * The `tidemark.phases` handler. Its order reads top to bottom: the deserializer already decoded the report
 * (or dead-lettered it); fold it into the job view and wait for the majority-acknowledged write; commit the
 * offset. A failed fold throws before the commit, so the message is redelivered (folding is idempotent).
 *
 * The topic name depends on `TIDEMARK_TOPIC_PREFIX`, so the controller class is made for a resolved name.
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload, Transport } from '@nestjs/microservices';
import { JobViews } from '../jobs/job-views';
import { commitAfter } from './commit-offset';
import type { PhasePacket } from './phase-packet';

export function phaseEventsController(topic: string): Type<unknown> {
  @Controller()
  class PhaseEventsController {
    constructor(@Inject(JobViews) private readonly views: JobViews) {}

    @EventPattern(topic, Transport.KAFKA)
    async onPhaseMessage(@Payload() packet: PhasePacket, @Ctx() context: KafkaContext): Promise<void> {
      if (packet.kind === 'phase-changed') {
        await this.views.foldPhaseChanged(packet.event);
      }
      await commitAfter(context);
    }
  }
  return PhaseEventsController;
}
