/**
 * Helpers of job-state's integration specs: names and environment of their own, polling, PhaseChanged records,
 * clean-up, the set-up of the outbox specs (HTTP calls are `getJson` / `postJson` of @tidemark/testing).
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import {
  createKafka,
  deleteTopics,
  ensureTopics,
  producerFor,
  resolveTopics,
  type PhaseChanged,
  type Topic,
  type Topics,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';

/**
 * What one spec file owns: a random `suffix`, the topic prefix `it-<name>-<suffix>`, the meta and oplog-store
 * databases `tidemark_{meta,os}_<dbTag>_<suffix>`, and job-state's environment with them (any free port), with
 * the endpoints and topics that environment resolves to.
 */
export function specWorld(name: string, dbTag: string) {
  const suffix = randomBytes(4).toString('hex');
  const prefix = `it-${name}-${suffix}`;
  const metaDb = `tidemark_meta_${dbTag}_${suffix}`;
  const oplogStoreDb = `tidemark_os_${dbTag}_${suffix}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    TIDEMARK_TOPIC_PREFIX: prefix,
    TIDEMARK_META_DB: metaDb,
    TIDEMARK_OPLOG_STORE_DB: oplogStoreDb,
  };
  const topics: Topics = resolveTopics({ prefix, env });
  return { suffix, prefix, metaDb, oplogStoreDb, env, endpoints: resolveEndpoints(env), topics };
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A PhaseChanged as a stage would publish it. */
export function phaseChanged(
  jobId: string,
  syncId: string,
  overrides: Partial<PhaseChanged> = {},
): PhaseChanged {
  return {
    jobId,
    syncId,
    phase: 'TRANSFERRING',
    stage: 'agent',
    progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
    appliedTs: null,
    sourceTs: null,
    details: {},
    at: new Date(),
    ...overrides,
  };
}

/** Drops the test's databases on the backup side, deletes its consumer groups and its topics. */
export async function cleanUp(options: {
  kafka: Kafka;
  backupUri: string;
  prefix: string;
  databases: readonly string[];
  databasePrefixes?: readonly string[];
  groups: readonly string[];
}): Promise<void> {
  const mongo = await MongoClient.connect(options.backupUri);
  try {
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      if (
        options.databases.includes(d.name) ||
        (options.databasePrefixes ?? []).some((p) => d.name.startsWith(p))
      ) {
        await mongo.db(d.name).dropDatabase();
      }
    }
  } finally {
    await mongo.close();
  }
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${options.prefix}.`));
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const groups = options.groups.filter((g) => existing.has(g));
    if (groups.length > 0) await admin.deleteGroups(groups);
    await deleteTopics(options.kafka, mine);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The set-up of a spec of an outbox over real servers (`world` of {@link specWorld}): `topic` created, two
 * producers, a consumer (client and group id: the spec's topic prefix) reading `topic` from its beginning into
 * `events`, and a client of the backup-side server; each part is there once `open()` has resolved. `close()`
 * disconnects them and cleans up (`cleanUp`: `databases`, the consumer group, the spec's topics).
 */
export class OutboxSpec<E> {
  kafka!: Kafka;
  /** A connected producer: a job-state that reaches Kafka. */
  producer!: Producer;
  /** The producer of a job-state cut off from Kafka: never connected, every send fails. */
  unreachable!: Producer;
  client!: MongoClient;
  /** Every record on the topic so far, decoded, in order. */
  readonly events: E[] = [];
  private reader: Consumer | undefined;

  constructor(
    private readonly world: Pick<ReturnType<typeof specWorld>, 'prefix' | 'endpoints'>,
    private readonly options: {
      topic: Topic;
      decode: (value: Buffer) => E;
      databases: readonly string[];
    },
  ) {}

  async open(): Promise<void> {
    const { prefix, endpoints } = this.world;
    this.kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: prefix });
    await ensureTopics(this.kafka, [this.options.topic]);
    this.producer = producerFor(this.kafka);
    await this.producer.connect();
    this.unreachable = producerFor(this.kafka);
    this.reader = this.kafka.consumer({ groupId: prefix });
    await this.reader.connect();
    await this.reader.subscribe({ topic: this.options.topic.name, fromBeginning: true });
    await this.reader.run({
      eachMessage: async ({ message }) => {
        if (message.value !== null) this.events.push(this.options.decode(message.value));
      },
    });
    this.client = await new MongoClient(endpoints.backup.uri).connect();
  }

  async close(): Promise<void> {
    const { prefix, endpoints } = this.world;
    await this.reader?.disconnect();
    await this.producer?.disconnect();
    await this.client?.close();
    await cleanUp({
      kafka: this.kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: this.options.databases,
      groups: [prefix],
    });
  }
}
