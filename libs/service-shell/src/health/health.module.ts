/**
 * `HealthModule.forDependencies([kafkaCheck(...), mongoCheck('backup'), ...])` mounts `/healthz` and
 * `/readyz` for the given dependency checks. Import it next to `ConnectionsModule.forService(...)`, which
 * provides the connections the checks use.
 */
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { ServiceConfig } from '../service-config';
import { SERVICE_CONFIG } from '../tokens';
import type { DependencyCheck, DependencyCheckProvider } from './dependency-check';
import { HealthController } from './health.controller';
import { Readiness } from './readiness';

@Module({})
export class HealthModule {
  static forDependencies(checks: readonly DependencyCheckProvider[]): DynamicModule {
    const names = checks.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      throw new Error(`HealthModule: duplicate dependency check names in ${names.join(', ')}`);
    }
    const tokens = checks.map((c) => Symbol(`tidemark.check.${c.name}`));
    const checkProviders: Provider[] = checks.map((c, i) => ({
      provide: tokens[i]!,
      inject: [...c.inject],
      useFactory: (...deps: unknown[]): DependencyCheck => ({ name: c.name, run: c.create(...deps) }),
    }));
    const readiness: Provider = {
      provide: Readiness,
      inject: [SERVICE_CONFIG, ...tokens],
      useFactory: (config: ServiceConfig, ...built: DependencyCheck[]) =>
        new Readiness(built, config.readyTimeoutMs),
    };
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [...checkProviders, readiness],
      exports: [Readiness],
    };
  }
}
