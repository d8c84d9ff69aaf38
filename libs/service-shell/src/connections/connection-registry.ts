/**
 * Keeps the close functions of the connections a service opened and runs them, newest first, when the
 * application shuts down (SIGTERM/SIGINT via Nest's shutdown hooks).
 */
import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import type { JsonLogger } from '../json-logger';
import { SERVICE_LOGGER } from '../tokens';

export interface RegisteredConnection {
  /** What is closed, for logs: `kafka-admin`, `backup-mongo`, ... */
  readonly name: string;
  readonly close: () => Promise<void>;
}

/**
 * Longest wait for one connection to close before shutdown reports it as failed. A Kafka consumer stopped while its
 * group is still joining waits for the join (seen above 5 s on a loaded machine); the deployments' grace periods
 * (30 s job-state, 60 s the stages) leave room.
 */
export const CLOSE_TIMEOUT_MS = 15_000;

export class ConnectionRegistry implements OnApplicationShutdown {
  private readonly connections: RegisteredConnection[] = [];

  constructor(@Inject(SERVICE_LOGGER) private readonly logger: JsonLogger) {}

  /** Registers a connection to close at shutdown. Call right after the connection opened. */
  add(name: string, close: () => Promise<void>): void {
    this.connections.push({ name, close });
  }

  /** Names of the open connections, oldest first. */
  names(): string[] {
    return this.connections.map((c) => c.name);
  }

  /**
   * Closes every connection, newest first (so consumers stop before the stores they write to). A failure
   * does not stop the others from closing; all failures are rethrown together, so the exit code shows them.
   */
  async onApplicationShutdown(): Promise<void> {
    const failures: unknown[] = [];
    for (const conn of this.connections.splice(0).reverse()) {
      try {
        await closeWithin(conn, CLOSE_TIMEOUT_MS);
        this.logger.event({ event: 'connection-closed', connection: conn.name });
      } catch (err) {
        failures.push(err);
        this.logger.error(`closing ${conn.name} failed: ${(err as Error).message}`, ConnectionRegistry.name);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'some connections did not close cleanly');
  }
}

async function closeWithin(conn: RegisteredConnection, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${conn.name} did not close within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([conn.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
