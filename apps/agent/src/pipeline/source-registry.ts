/**
 * One connected source client per source URI (jobs of the same deployment share it), all closed at shutdown.
 * Before connecting, the URI goes through the agent's {@link SourceCredentials}: a source the agent holds
 * credentials for is connected with them (as driver options, never in the URI); a source it has no entry for is
 * refused with `SourceNotAllowedError` before anything is sent to it (unless the agent has no entries at all, when
 * every source is connected without credentials). The refusal is not retriable, so the command handler raises
 * `AGENT_COMMAND_FAILED` on the job (or the tail its failure alert).
 */
import type { MongoClient } from 'mongodb';
import type { SourceReader } from '@tidemark/capture';
import {
  classifyMongoError,
  connectMongo,
  type ConnectMongoOptions,
  type SourceCredentials,
} from '@tidemark/mongo';
import { MongoSource, toSourceError } from '@tidemark/source';

export interface SourceRegistryOptions {
  readonly appName: string;
  readonly credentials: SourceCredentials;
  /** Default `connectMongo` (specs pass their own to see what would be sent where). */
  readonly connect?: (uri: string, options: ConnectMongoOptions) => Promise<MongoClient>;
}

export class SourceRegistry {
  private readonly sources = new Map<string, Promise<{ client: MongoClient; source: MongoSource }>>();

  constructor(private readonly options: SourceRegistryOptions) {}

  /**
   * The source at `uri`, connecting on first use. A failed connection is forgotten, so the next call retries.
   * Throws `SourceNotAllowedError` for a source the agent holds no entry for.
   */
  async sourceFor(uri: string): Promise<SourceReader> {
    let entry = this.sources.get(uri);
    if (entry === undefined) {
      const login = this.options.credentials.forUri(uri); // throws before any connection for a refused source
      const connect = this.options.connect ?? connectMongo;
      entry = connect(uri, { appName: this.options.appName, ...(login === undefined ? {} : { login }) })
        .then((client) => ({
          client,
          source: new MongoSource(client, { classifyError: classifyMongoError }),
        }))
        .catch((err: unknown) => {
          this.sources.delete(uri);
          throw toSourceError(err, `connect to the source ${uri}`, classifyMongoError);
        });
      this.sources.set(uri, entry);
    }
    return (await entry).source;
  }

  async closeAll(): Promise<void> {
    const entries = [...this.sources.values()];
    this.sources.clear();
    await Promise.allSettled(entries.map(async (e) => (await e).client.close()));
  }
}
