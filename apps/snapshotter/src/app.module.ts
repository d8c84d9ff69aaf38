/**
 * Wiring of the snapshotter service. No pipeline logic yet: it opens its connections, ensures its topics and
 * reports health (see README.md for what the stage will do).
 */
import { Module, type DynamicModule } from '@nestjs/common';
import {
  ConnectionsModule,
  HealthModule,
  kafkaCheck,
  mongoCheck,
  s3Check,
  type ServiceConfig,
} from '@tidemark/service-shell';

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true, s3: true }),
        HealthModule.forDependencies([kafkaCheck('snapshots'), mongoCheck('backup'), s3Check()]),
      ],
    };
  }
}
