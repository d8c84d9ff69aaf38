import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodec, type DeliveredMessage, type PhaseChanged } from '@tidemark/bus';
import type { PhasePacket } from './phase-packet';
import { PhaseDeserializer, type PhaseDeadLetterSink } from './phase-deserializer';

class RecordingSink implements PhaseDeadLetterSink {
  readonly letters: { delivered: DeliveredMessage; reason: string }[] = [];
  async send(delivered: DeliveredMessage, reason: string): Promise<void> {
    this.letters.push({ delivered, reason });
  }
}

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

function raw(value: Buffer | null) {
  return {
    topic: 'tidemark.phases',
    partition: 2,
    offset: '17',
    timestamp: '1700000000000',
    key: 'job-1',
    value,
    headers: { trace: 'abc' },
  };
}

describe('PhaseDeserializer', () => {
  it('decodes a single-object encoded PhaseChanged', async () => {
    const sink = new RecordingSink();
    const codec = defaultCodec();
    const packet = await new PhaseDeserializer(codec, sink).deserialize(
      raw(codec.encode('tidemark.phases.PhaseChanged', event)),
      { channel: 'tidemark.phases' },
    );
    assert.equal(packet.pattern, 'tidemark.phases');
    const data = packet.data as PhasePacket;
    assert.equal(data.kind, 'phase-changed');
    assert.ok(data.kind === 'phase-changed');
    // avsc returns record class instances; compare the fields.
    assert.deepEqual({ ...data.event, progress: { ...data.event.progress } }, event);
    assert.equal(sink.letters.length, 0);
  });

  it('dead-letters garbage with the original key, bytes and headers, then reports it', async () => {
    const sink = new RecordingSink();
    const packet = await new PhaseDeserializer(defaultCodec(), sink).deserialize(
      raw(Buffer.from('garbage!!!!')),
      {
        channel: 'tidemark.phases',
      },
    );
    const data = packet.data as PhasePacket;
    assert.equal(data.kind, 'dead-lettered');
    assert.equal(sink.letters.length, 1);
    const [letter] = sink.letters;
    assert.match(letter!.reason, /bad-marker/);
    assert.equal(letter!.delivered.partition, 2);
    assert.deepEqual(letter!.delivered.message.key, Buffer.from('job-1'));
    assert.deepEqual(letter!.delivered.message.value, Buffer.from('garbage!!!!'));
    assert.equal(letter!.delivered.message.offset, '17');
    assert.deepEqual(letter!.delivered.message.headers, { trace: 'abc' });
  });

  it('dead-letters an empty value and another record type', async () => {
    const sink = new RecordingSink();
    const codec = defaultCodec();
    const d = new PhaseDeserializer(codec, sink);
    assert.equal(((await d.deserialize(raw(null))).data as PhasePacket).kind, 'dead-lettered');
    const alert = codec.encode('tidemark.alerts.AlertRaised', {
      alertId: 'a-1',
      jobId: null,
      severity: 'INFO',
      code: 'TEST',
      message: 'not a phase',
      context: {},
      at: new Date(0),
    });
    assert.equal(((await d.deserialize(raw(alert))).data as PhasePacket).kind, 'dead-lettered');
    assert.match(sink.letters[1]!.reason, /unexpected-record/);
  });

  it('rejects, without a dead letter, when the dead-letter write fails (the message is redelivered)', async () => {
    const failing: PhaseDeadLetterSink = {
      send: async () => {
        throw new Error('broker down');
      },
    };
    await assert.rejects(
      new PhaseDeserializer(defaultCodec(), failing).deserialize(raw(Buffer.from('x'))),
      /broker down/,
    );
  });
});
