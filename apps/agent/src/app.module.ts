/**
 * Wiring of the agent service. No pipeline logic yet: it opens its connections, ensures its topics and
 * reports health (see README.md for what the stage will do).
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { ConnectionsModule, HealthModule, kafkaCheck, mongoCheck, type ServiceConfig } from '@tidemark/shell';

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { source: true }),
        HealthModule.forDependencies([kafkaCheck('slicesOplog'), mongoCheck('source')]),
      ],
    };
  }
}
