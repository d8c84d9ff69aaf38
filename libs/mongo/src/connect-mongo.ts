/**
 * Connecting to a MongoDB deployment (the source being backed up, or the backup side that holds the oplog
 * store, the head databases and job views).
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** TLS settings passed through unchanged to the driver (see the driver's `MongoClientOptions`). */
export type MongoTlsOptions = Pick<
  MongoClientOptions,
  | 'tls'
  | 'tlsCAFile'
  | 'tlsCertificateKeyFile'
  | 'tlsCertificateKeyFilePassword'
  | 'tlsAllowInvalidCertificates'
  | 'tlsAllowInvalidHostnames'
  | 'tlsInsecure'
  | 'tlsCRLFile'
>;

export interface ConnectMongoOptions extends MongoTlsOptions {
  /** Shown in the server's logs and `currentOp`; use the service name, e.g. `tidemark-job-state`. */
  appName: string;
  /** How long an operation waits for a suitable server before failing. Default 10 000 ms. */
  serverSelectionTimeoutMS?: number;
  /** TCP connect + handshake limit for one connection. Default 10 000 ms. */
  connectTimeoutMS?: number;
  /** Largest connection pool per server. Default 20. */
  maxPoolSize?: number;
  /**
   * Credentials given to the driver as options, never spliced into the URI (so no URI that is shown or logged
   * carries them). Unset: the URI's own, if any.
   */
  login?: {
    readonly username: string;
    readonly password: string;
    readonly authSource?: string;
    readonly authMechanism?: 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'PLAIN';
  };
}

/** Defaults chosen so a dead server is reported within seconds, not the driver's 30 s. */
export const MONGO_DEFAULTS = {
  serverSelectionTimeoutMS: 10_000,
  connectTimeoutMS: 10_000,
  maxPoolSize: 20,
} as const;

/**
 * Opens a client and waits until a server is selected, so a wrong URI or an unreachable deployment fails
 * here and not at the first operation. On failure the half-open client is closed before the error is thrown.
 *
 * `socketTimeoutMS` stays at the driver's default (none): tailable oplog cursors legitimately wait.
 */
export async function connectMongo(uri: string, options: ConnectMongoOptions): Promise<MongoClient> {
  const { appName, serverSelectionTimeoutMS, connectTimeoutMS, maxPoolSize, login, ...tls } = options;
  const client = new MongoClient(uri, {
    ...tls,
    ...(login === undefined
      ? {}
      : {
          auth: { username: login.username, password: login.password },
          ...(login.authSource === undefined ? {} : { authSource: login.authSource }),
          ...(login.authMechanism === undefined ? {} : { authMechanism: login.authMechanism }),
        }),
    appName,
    serverSelectionTimeoutMS: serverSelectionTimeoutMS ?? MONGO_DEFAULTS.serverSelectionTimeoutMS,
    connectTimeoutMS: connectTimeoutMS ?? MONGO_DEFAULTS.connectTimeoutMS,
    maxPoolSize: maxPoolSize ?? MONGO_DEFAULTS.maxPoolSize,
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.close(true);
    throw err;
  }
}

/** Runs `{ ping: 1 }` on the admin database; resolves when the server answered ok. */
export async function pingMongo(client: MongoClient): Promise<void> {
  const reply = await client.db('admin').command({ ping: 1 });
  if (reply['ok'] !== 1) {
    throw new Error(`MongoDB ping answered ${JSON.stringify(reply)}`);
  }
}
