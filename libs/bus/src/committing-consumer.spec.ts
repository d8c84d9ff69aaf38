/**
 * The consumer loop's rules without a broker: kafkajs's `Consumer` and `Producer` are replaced by recorders that
 * capture what the loop commits, seeks, pauses and dead-letters, and the loop's `eachMessage` is driven by hand.
 * (The loop against a real broker is covered by the apps' integration specs.)
 */
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EachMessagePayload, Kafka, Producer, ProducerRecord } from 'kafkajs';
import { TidemarkError } from '@tidemark/domain';
import { Backoff } from '@tidemark/util';
import { TopicConfigError } from './bus-errors';
import { defaultCodec } from './codec';
import {
  CommittingConsumer,
  recordDecoder,
  type CommitPolicy,
  type CommittingConsumerOptions,
} from './committing-consumer';
import { DLQ_HEADERS } from './dead-letter';
import { fromFixtureJson, type FixtureFile } from './fixture-json';
import { PartitionBackoff } from './partition-backoff';
import { defaultSchemasDir, fixturePath } from './schema-files';
import { resolveTopics } from './topics';
import type { SliceStored } from './types';

const topics = resolveTopics({ prefix: 'spec', env: {} });
const stored = topics.slicesStored;

/** The golden fixture of the current `SliceStored` version (kind OPLOG). */
function goldenClaim(): SliceStored {
  const name = 'tidemark.slices.SliceStored';
  const current = defaultCodec().registry.record(name).current;
  const file = fixturePath(defaultSchemasDir(), name, current.version);
  const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
  return { ...(fromFixtureJson(current.type, fixture.value) as SliceStored), kind: 'OPLOG' };
}
const claim = goldenClaim();

class Recorder {
  readonly events: string[] = [];
  readonly sent: ProducerRecord[] = [];
  eachMessage: ((payload: EachMessagePayload) => Promise<void>) | undefined;
  groupJoin: (() => void) | undefined;
  failSend = false;
  /** Errors the next `subscribe` calls throw, in order. */
  readonly subscribeErrors: Error[] = [];
  subscribes = 0;

  readonly consumer = {
    events: { CRASH: 'crash', GROUP_JOIN: 'group-join' },
    on: (event: string, listener: () => void) => {
      if (event === 'group-join') this.groupJoin = listener;
    },
    connect: async () => undefined,
    subscribe: async () => {
      this.subscribes++;
      const err = this.subscribeErrors.shift();
      if (err !== undefined) throw err;
    },
    run: async (config: { eachMessage: (payload: EachMessagePayload) => Promise<void> }) => {
      this.eachMessage = config.eachMessage;
    },
    commitOffsets: async (offsets: { topic: string; partition: number; offset: string }[]) => {
      for (const o of offsets) this.events.push(`commit ${o.topic}/${o.partition} ${o.offset}`);
    },
    seek: (o: { topic: string; partition: number; offset: string }) =>
      this.events.push(`seek ${o.topic}/${o.partition} ${o.offset}`),
    disconnect: async () => undefined,
  };

  readonly kafka = { consumer: () => this.consumer } as unknown as Kafka;

  readonly producer = {
    send: async (record: ProducerRecord) => {
      if (this.failSend) throw new TidemarkError('broker unavailable', { retriable: true });
      this.sent.push(record);
      this.events.push(`dead-letter ${record.topic}`);
      return [{ topicName: record.topic, partition: 0, errorCode: 0, baseOffset: '0' }];
    },
  } as unknown as Producer;

  /** Delivers one message at `offset` of partition 0 and waits for the loop to settle it. */
  async deliver(value: Buffer | null, offset = '5'): Promise<void> {
    assert.ok(this.eachMessage, 'the loop is running');
    await this.eachMessage({
      topic: stored.name,
      partition: 0,
      message: { key: Buffer.from('job1'), value, offset, timestamp: '1000', headers: {}, attributes: 0 },
      heartbeat: async () => undefined,
      pause: () => {
        this.events.push('pause');
        return () => this.events.push('resume');
      },
    } as unknown as EachMessagePayload);
  }
}

async function started<O = void>(
  recorder: Recorder,
  options: Partial<CommittingConsumerOptions<SliceStored, O>> = {},
): Promise<CommittingConsumer<SliceStored, O>> {
  const consumer = new CommittingConsumer<SliceStored, O>({
    kafka: recorder.kafka,
    groupId: 'spec-group',
    topics: [stored],
    decode: recordDecoder('tidemark.slices.SliceStored'),
    producer: recorder.producer,
    handle: async () => undefined as O,
    log: () => undefined,
    backoff: new PartitionBackoff(
      new Backoff({ initialMs: 60_000, factor: 2, maxMs: 60_000, jitter: 'equal' }),
    ),
    ...options,
  });
  await consumer.start();
  return consumer;
}

describe('CommittingConsumer', () => {
  it('refuses to read a topic that declares no dead-letter topic', () => {
    const recorder = new Recorder();
    const noDlq = { ...stored, deadLetterName: undefined };
    assert.throws(
      () =>
        new CommittingConsumer({
          kafka: recorder.kafka,
          groupId: 'g',
          topics: [noDlq],
          decode: recordDecoder('tidemark.slices.SliceStored'),
          producer: recorder.producer,
          handle: async () => undefined,
          log: () => undefined,
        }),
      TopicConfigError,
    );
  });

  it('retries a subscribe the broker refuses for a topic it does not list yet, and only such refusals', async () => {
    const protocolError = (type: string, retriable: boolean) =>
      Object.assign(new Error('This server does not host this topic-partition'), {
        name: 'KafkaJSProtocolError',
        type,
        retriable,
      });
    const recorder = new Recorder();
    recorder.subscribeErrors.push(protocolError('UNKNOWN_TOPIC_OR_PARTITION', true));
    await started(recorder);
    assert.equal(recorder.subscribes, 2);
    assert.ok(recorder.eachMessage, 'running after the retry');

    const refused = new Recorder();
    refused.subscribeErrors.push(protocolError('TOPIC_AUTHORIZATION_FAILED', false));
    await assert.rejects(started(refused), /subscribe/);
    assert.equal(refused.subscribes, 1, 'a refusal no retry can fix is not retried');
  });

  it('decodes a record, hands it to the handler, then commits offset + 1', async () => {
    const recorder = new Recorder();
    const handled: SliceStored[] = [];
    const consumer = await started(recorder, {
      handle: async (record) => {
        recorder.events.push('handled');
        handled.push(record);
      },
    });
    await recorder.deliver(defaultCodec().encode('tidemark.slices.SliceStored', claim));
    assert.equal(handled[0]?.sliceId, claim.sliceId);
    assert.deepEqual(recorder.events, ['handled', `commit ${stored.name}/0 6`]);
    assert.deepEqual(consumer.problems, []);
  });

  for (const [what, value, reason] of [
    ['garbage bytes (wrong marker)', Buffer.from('not avro at all'), /bad-marker/],
    ['an empty value', Buffer.alloc(0), /empty value/],
    ['no value (a tombstone)', null, /empty value/],
    [
      'another record',
      defaultCodec().encode('tidemark.phases.PhaseChanged', {
        jobId: 'job1',
        syncId: 'job1-s1',
        phase: 'STARTING',
        stage: 'job-state',
        progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
        appliedTs: null,
        sourceTs: null,
        details: {},
        at: new Date(0),
      }),
      /expected tidemark\.slices\.SliceStored/,
    ],
  ] as const) {
    it(`dead-letters ${what} with the reason, then commits it; the handler never sees it`, async () => {
      const recorder = new Recorder();
      const after: string[] = [];
      await started(recorder, {
        handle: async () => assert.fail('the handler is not called'),
        afterDeadLetter: async (message, why) => {
          recorder.events.push('after-dead-letter');
          after.push(`${message.offset}: ${why}`);
        },
      });
      await recorder.deliver(value);
      assert.deepEqual(recorder.events, [
        `dead-letter ${stored.deadLetterName}`,
        'after-dead-letter',
        `commit ${stored.name}/0 6`,
      ]);
      const letter = recorder.sent[0]?.messages[0];
      assert.equal(letter?.key?.toString(), 'job1', 'the original key is kept');
      assert.deepEqual(letter?.value ?? null, value, 'the original bytes are kept');
      const headers = letter?.headers ?? {};
      assert.match(String(headers[DLQ_HEADERS.reason]), reason);
      assert.match(String(headers[DLQ_HEADERS.reason]), /^undecodable: /);
      assert.equal(headers[DLQ_HEADERS.sourceTopic], stored.name);
      assert.equal(headers[DLQ_HEADERS.sourceOffset], '5');
      assert.match(after[0] ?? '', /^5: undecodable: /);
    });
  }

  it('commits nothing when the dead letter fails, and retries the message after a backoff', async () => {
    const recorder = new Recorder();
    recorder.failSend = true;
    const consumer = await started(recorder);
    await recorder.deliver(Buffer.from('garbage'));
    assert.deepEqual(recorder.events, ['pause', `seek ${stored.name}/0 5`]);
    assert.deepEqual(consumer.problems, [], 'a retriable failure does not halt the partition');
    await consumer.stop();
  });

  it('counts each failed message by error class: retried (dead letter failed) and fatal (partition halted)', async () => {
    const failures: string[] = [];
    const metrics = {
      failure: (err: unknown, retriable: boolean) =>
        void failures.push(`${(err as Error).name}:${retriable}`),
    };
    const recorder = new Recorder();
    recorder.failSend = true;
    const retried = await started(recorder, { metrics });
    await recorder.deliver(Buffer.from('garbage'));
    await retried.stop();
    const second = new Recorder();
    const fatal = await started(second, {
      metrics,
      handle: async () => {
        throw new TypeError('a bug');
      },
    });
    await second.deliver(defaultCodec().encode('tidemark.slices.SliceStored', claim));
    assert.deepEqual(failures, ['TidemarkError:true', 'TypeError:false']);
    await fatal.stop();
  });

  it('halts the partition on a fatal handler error, commits nothing and reports it', async () => {
    const recorder = new Recorder();
    const consumer = await started(recorder, {
      handle: async () => {
        throw new TidemarkError('bad state', { retriable: false });
      },
    });
    await recorder.deliver(defaultCodec().encode('tidemark.slices.SliceStored', claim));
    assert.deepEqual(recorder.events, ['pause', `seek ${stored.name}/0 5`]);
    assert.equal(consumer.problems.length, 1);
    assert.match(consumer.problems[0] ?? '', /halted .*@5: .*bad state/);
  });

  it('commits what the commit policy says, dead letters included, and resets it when the group rebalances', async () => {
    const recorder = new Recorder();
    const seen: string[] = [];
    const policy: CommitPolicy<string> = {
      next: (_topic, _partition, offset, outcome) => {
        seen.push(`${offset}:${outcome ?? 'dead-lettered'}`);
        return outcome === 'hold' ? undefined : '3';
      },
      reset: () => seen.push('reset'),
    };
    await started<string>(recorder, {
      handle: async (r) => (r.kind === 'OPLOG' ? 'hold' : 'go'),
      commits: policy,
    });
    await recorder.deliver(defaultCodec().encode('tidemark.slices.SliceStored', claim), '3');
    await recorder.deliver(Buffer.from('garbage'), '4');
    recorder.groupJoin?.();
    assert.deepEqual(seen, ['3:hold', '4:dead-lettered', 'reset']);
    assert.deepEqual(recorder.events, [`dead-letter ${stored.deadLetterName}`, `commit ${stored.name}/0 3`]);
  });
});
