/**
 * The topics are a real interface: a consumer in another language, `examples/audit-consumer/consume.py` (Python,
 * kafka-python and fastavro from PyPI, pinned in its requirements.txt, installed into the cache on first use),
 * reads the phase, command, alert, snapshot and restore topics of the real Kafka broker with nothing but the
 * `.avsc` files and the encoding of docs/topics.md, and prints exactly the events this spec published through
 * Tidemark's producer path (the golden fixtures, one JobCommand written by schema version 1), plus an error line
 * for a message that does not decode and one carrying another topic's record. There is no audit topic yet
 * (issue 11 adds it). Topics under a prefix of their own, deleted at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { resolveEndpoints } from '@tidemark/config';
import { ensureAuditConsumerPython, layout } from '@tidemark/testing';
import { ensureTopics } from './admin';
import { defaultCodec } from './codec';
import { resolveTopics } from './topics';
import { TestKafka, fixtureEvent, publishFixtureEvent, type PublishedEvent } from './testing/test-kafka';

const run = promisify(execFile);
const CONSUMER = path.join(__dirname, '..', '..', '..', 'examples', 'audit-consumer', 'consume.py');
const prefix = `it-py-${randomBytes(4).toString('hex')}`;
const topics = resolveTopics({ prefix, env: {} });
const JOB = `jp${randomBytes(3).toString('hex')}`;
const OTHER = `jq${randomBytes(3).toString('hex')}`;

type Line = Record<string, unknown>;
const where = (e: { topic: unknown; partition: unknown; offset: unknown }) =>
  `${String(e.topic)}/${String(e.partition)}@${String(e.offset)}`;

describe('the Python audit consumer (examples/audit-consumer) reads what Tidemark published', () => {
  let python = '';
  let kafka: TestKafka;
  const published: PublishedEvent[] = [];
  const bad: { at: string; reason: RegExp }[] = [];

  before(async () => {
    python = await ensureAuditConsumerPython(layout(), (m) => console.log(m));
    kafka = new TestKafka(resolveEndpoints().kafka.brokers, prefix);
    await ensureTopics(kafka.kafka, [
      topics.phases,
      topics.commands,
      topics.alerts,
      topics.snapshots,
      topics.restores,
    ]);
    const producer = await kafka.producer();
    const events = [
      [topics.phases, fixtureEvent('tidemark.phases.PhaseChanged', JOB)],
      [topics.commands, fixtureEvent('tidemark.commands.JobCommand', JOB)],
      [topics.commands, fixtureEvent('tidemark.commands.JobCommand', JOB, 1)],
      [topics.alerts, fixtureEvent('tidemark.alerts.AlertRaised', JOB)],
      [topics.snapshots, fixtureEvent('tidemark.snapshots.SnapshotEvent', JOB)],
      [topics.restores, fixtureEvent('tidemark.restores.RestoreEvent', JOB)],
    ] as const;
    for (const [topic, event] of events)
      published.push(await publishFixtureEvent(producer, topic as never, event as never));
    await publishFixtureEvent(producer, topics.phases, fixtureEvent('tidemark.phases.PhaseChanged', OTHER));

    const raw = async (topic: string, value: Buffer, reason: RegExp) => {
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: JOB, value }] });
      bad.push({ at: `${topic}/${meta!.partition}@${meta!.baseOffset}`, reason });
    };
    await raw(topics.alerts.name, Buffer.from('{"not":"avro"}'), /^marker 7b22, expected c301/);
    const phase = fixtureEvent('tidemark.phases.PhaseChanged', JOB);
    await raw(
      topics.commands.name,
      defaultCodec().encode('tidemark.phases.PhaseChanged', phase.value as never),
      /^expected tidemark.commands.JobCommand, found tidemark.phases.PhaseChanged$/,
    );
  });

  after(async () => {
    await kafka?.cleanup([]);
  });

  it('prints every event of the job once, resolved to the current version, in the fixtures JSON form; errors for the rest', async () => {
    const t0 = Date.now();
    const { stdout, stderr } = await run(
      python,
      [
        CONSUMER,
        '--bootstrap-servers',
        resolveEndpoints().kafka.brokers.join(','),
        '--prefix',
        prefix,
        '--job',
        JOB,
        '--idle-ms',
        '5000',
      ],
      { maxBuffer: 1 << 24, timeout: 120_000 },
    );
    console.log(`consume.py ran ${Date.now() - t0} ms; stderr: ${stderr.trim()}`);
    const lines = stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Line);
    const errors = lines.filter((l) => 'error' in l);
    const events = lines.filter((l) => !('error' in l));

    assert.deepEqual(
      events.map((e) => where(e as never)).sort(),
      published.map((p) => where(p)).sort(),
      "exactly the job's events (not the other job's), each once",
    );
    for (const p of published) {
      const got = events.find((e) => where(e as never) === where(p))!;
      assert.equal(got['record'], p.record, where(p));
      assert.equal(got['writerVersion'], p.version, where(p));
      assert.equal(got['key'], JOB);
      assert.deepEqual(got['value'], p.expected, `${p.record} v${p.version}`);
    }
    assert.deepEqual(errors.map((e) => where(e as never)).sort(), bad.map((b) => b.at).sort());
    for (const b of bad) {
      const e = errors.find((l) => where(l as never) === b.at)!;
      assert.match(String(e['error']), b.reason);
    }
  });
});
