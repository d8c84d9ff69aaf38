/**
 * Dependency checks behind `GET /readyz`.
 *
 * A check is a named async function that resolves when the dependency answers; its provider says which
 * connections it needs (injection tokens) and builds the function from them.
 */
import type { InjectionToken } from '@nestjs/common';

/** A ready-to-run check. `name` is the key in the `/readyz` body (`kafka`, `source`, `backup`, `s3`). */
export interface DependencyCheck {
  readonly name: string;
  /** Resolves when the dependency answered; rejects with the reason otherwise. Must not retry for long. */
  readonly run: () => Promise<void>;
}

/** How to build a {@link DependencyCheck} from the shell's connections. */
export interface DependencyCheckProvider {
  readonly name: string;
  readonly inject: readonly InjectionToken[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly create: (...deps: any[]) => () => Promise<void>;
}
