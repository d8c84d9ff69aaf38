/** A readiness check for a service's own pipeline: not ready while any partition is stopped by a fatal error. */
import type { InjectionToken } from '@nestjs/common';
import type { DependencyCheckProvider } from './dependency-check';

export interface PipelineHealth {
  /** Why parts of the pipeline are stopped; empty while healthy. */
  readonly problems: readonly string[];
}

export function pipelineCheck(token: InjectionToken): DependencyCheckProvider {
  return {
    name: 'pipeline',
    inject: [token],
    create: (pipeline: PipelineHealth) => async () => {
      if (pipeline.problems.length > 0) throw new Error(pipeline.problems.join('; '));
    },
  };
}
