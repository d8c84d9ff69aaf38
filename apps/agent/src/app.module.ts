/**
 * Wiring of the agent service: connections (Kafka, the configured source), health probes, and the agent pipeline
 * (`AgentPipeline`: start-up recovery, the command consumer, the per-job scans and oplog tails of
 * `@tidemark/capture` over `@tidemark/source` and Kafka). See README.md.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import {
  ConnectionsModule,
  HealthModule,
  kafkaCheck,
  mongoCheck,
  type ServiceConfig,
} from '@tidemark/service-shell';
import { agentEnv } from './pipeline/agent-env';
import { AGENT_ENV, AgentPipeline } from './pipeline/agent-pipeline';

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { source: true }),
        HealthModule.forDependencies([kafkaCheck('slicesOplog'), mongoCheck('source')]),
      ],
      providers: [
        { provide: AGENT_ENV, useValue: agentEnv(env, config.endpoints.source.uri) },
        AgentPipeline,
      ],
      exports: [AgentPipeline],
    };
  }
}
