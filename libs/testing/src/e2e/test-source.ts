/**
 * A source deployment loaded with a test's data, for the end-to-end suites.
 *
 * - With `SOURCE_MONGODB_URI` naming a source other than the local servers' (a real MongoDB replica set, say),
 *   that deployment: the data is loaded into it and `stop()` only closes the client (callers drop their
 *   databases).
 * - Otherwise (the local servers of `tidemark infra up`) a FerretDB of the test's own (`startScratchFerretdb`): the data is loaded BEFORE its oplog exists,
 *   so the oplog holds only what the test writes afterwards. On FerretDB that matters: it pushes no oplog query
 *   down to SQLite (not even a `$natural` sort with a limit; it sorts the whole collection in memory), so every
 *   read of the oplog costs its whole size, and a shared source whose oplog is full of another suite's bulk loads
 *   turns each poll of the agent into seconds of CPU. A suite of its own also cannot roll the oplog over under
 *   another suite's tail.
 */
import { MongoClient } from 'mongodb';
import { externalSourceUri } from '../servers/ferretdb';
import { startScratchFerretdb } from '../servers/scratch-ferretdb';

export interface TestSource {
  readonly uri: string;
  readonly client: MongoClient;
  /** A scratch server's processes by role (empty for a configured deployment), for CPU accounting. */
  readonly pids: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export async function loadedTestSource(opts: {
  /** Names the scratch server's data folder and log. */
  readonly name: string;
  /** Capped size of the scratch server's oplog. */
  readonly oplogBytes: number;
  readonly load: (client: MongoClient) => Promise<unknown>;
  readonly env?: NodeJS.ProcessEnv;
}): Promise<TestSource> {
  const env = opts.env ?? process.env;
  const configured = externalSourceUri(env);
  if (configured !== undefined) {
    const client = await new MongoClient(configured).connect();
    await opts.load(client);
    return { uri: configured, client, pids: {}, stop: () => client.close() };
  }
  const scratch = await startScratchFerretdb({
    name: opts.name,
    oplogBytes: opts.oplogBytes,
    beforeOplog: async (uri) => {
      const loader = await new MongoClient(uri).connect();
      try {
        await opts.load(loader);
      } finally {
        await loader.close();
      }
    },
  });
  const client = await new MongoClient(scratch.uri).connect();
  return {
    uri: scratch.uri,
    client,
    pids: scratch.pids,
    stop: async () => {
      await client.close();
      await scratch.stop();
    },
  };
}
