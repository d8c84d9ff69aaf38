/**
 * One connected source client per source URI (jobs of the same deployment share it), with the agent's own
 * credentials added; all closed at shutdown.
 */
import type { MongoClient } from 'mongodb';
import type { SourceReader } from '@tidemark/capture';
import { classifyMongoError, connectMongo } from '@tidemark/mongo';
import { MongoSource, toSourceError } from '@tidemark/source';

/** `uri` with `user:password@` inserted after the scheme (values URI-encoded). */
export function withCredentials(
  uri: string,
  credentials: { username: string; password: string } | undefined,
): string {
  if (credentials === undefined) return uri;
  const match = /^(mongodb(?:\+srv)?:\/\/)(.*)$/.exec(uri);
  if (match === null) return uri;
  const auth = `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`;
  return `${match[1]}${auth}${match[2]}`;
}

export class SourceRegistry {
  private readonly sources = new Map<string, Promise<{ client: MongoClient; source: MongoSource }>>();

  constructor(
    private readonly options: {
      readonly appName: string;
      readonly credentials: { username: string; password: string } | undefined;
    },
  ) {}

  /** The source at `uri`, connecting on first use. A failed connection is forgotten, so the next call retries. */
  async sourceFor(uri: string): Promise<SourceReader> {
    let entry = this.sources.get(uri);
    if (entry === undefined) {
      entry = connectMongo(withCredentials(uri, this.options.credentials), { appName: this.options.appName })
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
