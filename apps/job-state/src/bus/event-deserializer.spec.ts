import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultCodec,
  resolveTopics,
  type DeliveredMessage,
  type PhaseChanged,
  type Topic,
} from '@tidemark/bus';
import type { EventPacket } from './event-packet';
import { EventDeserializer, type DeadLetterSink, type ParsedKafkaMessage } from './event-deserializer';

class RecordingSink implements DeadLetterSink {
  readonly letters: { topic: Topic; delivered: DeliveredMessage; reason: string }[] = [];
  async send(topic: Topic, delivered: DeliveredMessage, reason: string): Promise<void> {
    this.letters.push({ topic, delivered, reason });
  }
}

const topics = resolveTopics({ env: {} });
const eventTopics = { phases: topics.phases, alerts: topics.alerts };

const event: PhaseChanged = {
  jobId: 'job-1',
  syncId: 'sync-1',
  phase: 'APPLYING_OPLOGS',
  stage: 'oplog-applier',
  progress: { docsCopied: 1n, docsTotal: null, bytesCopied: 2n, bytesTotal: null, namespaces: [] },
  appliedTs: 42n,
  sourceTs: null,
  details: { reason: 'test' },
  at: new Date('2026-01-02T03:04:05.000Z'),
};

const alert = {
  alertId: 'a-1',
  jobId: 'job-1',
  severity: 'CRITICAL' as const,
  code: 'SLICE_REJECTED',
  message: 'rejected',
  context: {},
  at: new Date(0),
};

function raw(value: Buffer | null, topic = 'tidemark.phases'): ParsedKafkaMessage {
  return {
    topic,
    partition: 2,
    offset: '17',
    timestamp: '1700000000000',
    key: 'job-1',
    value,
    headers: { trace: 'abc' },
  };
}

const packetOf = async (d: EventDeserializer, r: ParsedKafkaMessage) =>
  (await d.deserialize(r, { channel: r.topic })).data as EventPacket;

describe('EventDeserializer', () => {
  it('decodes a single-object encoded PhaseChanged on tidemark.phases', async () => {
    const sink = new RecordingSink();
    const codec = defaultCodec();
    const d = new EventDeserializer(codec, eventTopics, sink);
    const incoming = await d.deserialize(raw(codec.encode('tidemark.phases.PhaseChanged', event)), {
      channel: 'tidemark.phases',
    });
    assert.equal(incoming.pattern, 'tidemark.phases');
    const data = incoming.data as EventPacket;
    assert.ok(data.kind === 'phase-changed');
    // avsc returns record class instances; compare the fields.
    assert.deepEqual({ ...data.event, progress: { ...data.event.progress } }, event);
    assert.equal(sink.letters.length, 0);
  });

  it('decodes an AlertRaised on tidemark.alerts', async () => {
    const codec = defaultCodec();
    const d = new EventDeserializer(codec, eventTopics, new RecordingSink());
    const data = await packetOf(
      d,
      raw(codec.encode('tidemark.alerts.AlertRaised', alert), 'tidemark.alerts'),
    );
    assert.ok(data.kind === 'alert-raised');
    assert.equal(data.event.code, 'SLICE_REJECTED');
  });

  it('dead-letters a garbage phase report with the original key, bytes and headers, then reports it', async () => {
    const sink = new RecordingSink();
    const data = await packetOf(
      new EventDeserializer(defaultCodec(), eventTopics, sink),
      raw(Buffer.from('garbage!!!!')),
    );
    assert.equal(data.kind, 'dead-lettered');
    assert.equal(sink.letters.length, 1);
    const [letter] = sink.letters;
    assert.equal(letter!.topic.deadLetterName, 'tidemark.phases.dlq');
    assert.match(letter!.reason, /bad-marker/);
    assert.equal(letter!.delivered.partition, 2);
    assert.deepEqual(letter!.delivered.message.key, Buffer.from('job-1'));
    assert.deepEqual(letter!.delivered.message.value, Buffer.from('garbage!!!!'));
    assert.equal(letter!.delivered.message.offset, '17');
    assert.deepEqual(letter!.delivered.message.headers, { trace: 'abc' });
  });

  it('dead-letters an empty value and another record type on tidemark.phases', async () => {
    const sink = new RecordingSink();
    const codec = defaultCodec();
    const d = new EventDeserializer(codec, eventTopics, sink);
    assert.equal((await packetOf(d, raw(null))).kind, 'dead-lettered');
    assert.equal(
      (await packetOf(d, raw(codec.encode('tidemark.alerts.AlertRaised', alert)))).kind,
      'dead-lettered',
    );
    assert.match(sink.letters[1]!.reason, /unexpected-record/);
  });

  it('hands on an undecodable alert without a dead letter (tidemark.alerts declares none)', async () => {
    const sink = new RecordingSink();
    const data = await packetOf(
      new EventDeserializer(defaultCodec(), eventTopics, sink),
      raw(Buffer.from('x'), 'tidemark.alerts'),
    );
    assert.equal(data.kind, 'undecodable');
    assert.equal(sink.letters.length, 0);
  });

  it('rejects, without a dead letter, when the dead-letter write fails (the message is redelivered)', async () => {
    const failing: DeadLetterSink = {
      send: async () => {
        throw new Error('broker down');
      },
    };
    await assert.rejects(
      new EventDeserializer(defaultCodec(), eventTopics, failing).deserialize(raw(Buffer.from('x'))),
      /broker down/,
    );
  });

  it('refuses a topic it does not read', async () => {
    await assert.rejects(
      new EventDeserializer(defaultCodec(), eventTopics, new RecordingSink()).deserialize(
        raw(Buffer.from('x'), 'other'),
      ),
      /does not read topic other/,
    );
  });
});
