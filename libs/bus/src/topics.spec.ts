import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { TopicConfigError } from './bus-errors';
import { SINGLE_OBJECT_HEADER_BYTES } from './codec';
import { schemaRegistry } from './schemas';
import {
  CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  partitionsFor,
  resolveTopics,
  SLICE_TOPIC_MAX_MESSAGE_BYTES,
  TOPIC_SPECS,
  topicList,
  topicName,
} from './topics';

const MiB = 1024 * 1024;
const topics = resolveTopics({ env: {} });

describe('topic declarations', () => {
  it('declare the design’s topics once each, with dead letters for the slices topics', () => {
    assert.deepEqual(
      topicList(topics).map((t) => t.name),
      [
        'tidemark.slices.initial',
        'tidemark.slices.oplog',
        'tidemark.slices.stored',
        'tidemark.phases',
        'tidemark.commands',
        'tidemark.snapshots',
        'tidemark.restores',
        'tidemark.alerts',
        'tidemark.audit',
        'tidemark.slices.initial.dlq',
        'tidemark.slices.oplog.dlq',
        'tidemark.slices.stored.dlq',
        'tidemark.phases.dlq',
        'tidemark.commands.dlq',
        'tidemark.snapshots.dlq',
        'tidemark.alerts.dlq',
      ],
    );
    for (const t of topicList(topics)) {
      assert.match(
        t.base,
        // `audit` is the one mass noun: the audit trail (issue 11 names the topic).
        /^tidemark\.([a-z]+s|audit)(\.[a-z]+)*$/,
        `${t.base} follows tidemark.<noun-plural>[.<qualifier>]`,
      );
    }
  });

  it('name a value record the schema registry knows, and dead letters that are declared', () => {
    const registry = schemaRegistry();
    const names = new Set(topicList(topics).map((t) => t.name));
    for (const t of topicList(topics)) {
      if (t.value === null) {
        assert.ok(names.has(t.deadLetterOf), `${t.name} is the dead letter of a declared topic`);
        continue;
      }
      assert.ok(registry.recordNames().includes(t.value), `${t.name}: ${t.value}`);
      if (t.deadLetterName !== undefined) {
        assert.equal(t.deadLetterName, `${t.name}.dlq`);
        assert.ok(names.has(t.deadLetterName));
      }
    }
  });

  it('give every consumed record topic a dead-letter topic (where the consumer loop sends what cannot be decoded)', () => {
    for (const t of topicList(topics)) {
      if (t.value === null || t.consumers.length === 0) continue;
      assert.equal(t.deadLetterName, `${t.name}.dlq`, `${t.name} is consumed by ${t.consumers.join(', ')}`);
    }
  });

  it('let a maximal slice (domain maxSliceBytes) plus header and metadata fit the slices topics, 1 MiB elsewhere', () => {
    assert.ok(SLICE_TOPIC_MAX_MESSAGE_BYTES >= 16 * MiB);
    assert.equal(SLICE_TOPIC_MAX_MESSAGE_BYTES, DEFAULT_SLICE_LIMITS.maxSliceBytes + 1 * MiB);
    assert.equal(CONTROL_TOPIC_MAX_MESSAGE_BYTES, 1 * MiB);
    const overhead = SINGLE_OBJECT_HEADER_BYTES + 64 * 1024;
    for (const t of [topics.slicesInitial, topics.slicesOplog]) {
      assert.ok(t.maxMessageBytes >= DEFAULT_SLICE_LIMITS.maxSliceBytes + overhead, t.name);
    }
    for (const t of [
      topics.slicesStored,
      topics.phases,
      topics.commands,
      topics.snapshots,
      topics.restores,
      topics.alerts,
      topics.audit,
    ]) {
      assert.equal(t.maxMessageBytes, 1 * MiB, t.name);
    }
    assert.ok(
      topics.slicesOplogDlq.maxMessageBytes > topics.slicesOplog.maxMessageBytes,
      'dead letters have room for headers',
    );
  });

  it('key per job where order matters, per job and namespace for initial slices', () => {
    assert.equal(topics.slicesOplog.keyKind, 'job');
    assert.equal(topics.phases.keyKind, 'job');
    assert.equal(topics.commands.keyKind, 'job');
    assert.equal(topics.slicesInitial.keyKind, 'job-namespace');
    const base = {
      jobId: 'job-1',
      syncId: 's',
      sliceId: 'x',
      sequence: 0n,
      prevTs: null,
      firstTs: null,
      lastTs: null,
    };
    const initial = {
      ...base,
      docCount: 0n,
      kind: 'INITIAL' as const,
      origin: 'SCAN' as const,
      namespace: 'shop.orders',
      rawBytes: 0n,
      compressedBytes: 0n,
      codec: 'NONE' as const,
      checksum: '',
      producedAt: new Date(0),
      payload: Buffer.alloc(0),
    };
    assert.equal(topics.slicesInitial.keyOf(initial), 'job-1/shop.orders');
    assert.equal(topics.slicesInitial.keyOf({ ...initial, kind: 'CATALOG', namespace: null }), 'job-1');
    const oplog = { ...initial, kind: 'OPLOG' as const, origin: null, namespace: null };
    assert.equal(topics.slicesOplog.keyOf(oplog), 'job-1');
    assert.throws(() => topics.slicesInitial.keyOf({ ...initial, namespace: null }), TopicConfigError);
    assert.throws(() => topics.slicesInitial.keyOf(oplog), TopicConfigError);
    assert.throws(() => topics.slicesOplog.keyOf(initial), TopicConfigError);
    const alert = {
      alertId: 'a',
      severity: 'INFO' as const,
      code: 'X',
      message: 'm',
      context: {},
      at: new Date(0),
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    };
    assert.equal(topics.alerts.keyOf({ ...alert, jobId: null }), '-');
    assert.equal(topics.alerts.keyOf({ ...alert, jobId: 'job-2' }), 'job-2');
  });
});

describe('topic names and partitions', () => {
  it('prefix names for test isolation and refuse characters Kafka does not allow', () => {
    assert.equal(topicName('tidemark.phases'), 'tidemark.phases');
    assert.equal(topicName('tidemark.phases', ''), 'tidemark.phases');
    assert.equal(topicName('tidemark.phases', 'it-1a2b'), 'it-1a2b.tidemark.phases');
    assert.equal(
      resolveTopics({ prefix: 'p1', env: {} }).slicesOplog.deadLetterName,
      'p1.tidemark.slices.oplog.dlq',
    );
    assert.throws(() => topicName('tidemark.phases', 'bad prefix'), TopicConfigError);
    assert.throws(() => topicName('tidemark.phases', 'x'.repeat(250)), TopicConfigError);
  });

  it('default to 6 partitions for slices, 3 for control topics, 1 for dead letters', () => {
    assert.equal(topics.slicesOplog.partitions, 6);
    assert.equal(topics.slicesStored.partitions, 6);
    assert.equal(topics.phases.partitions, 3);
    assert.equal(topics.slicesOplogDlq.partitions, 1);
  });

  it('read TIDEMARK_TOPIC_PARTITIONS: one number for all, or class=n / topic=n entries', () => {
    const all = resolveTopics({ env: { TIDEMARK_TOPIC_PARTITIONS: '12' } });
    assert.ok(topicList(all).every((t) => t.partitions === 12));
    const mixed = resolveTopics({
      env: { TIDEMARK_TOPIC_PARTITIONS: 'slices=24, control=2,tidemark.phases=1' },
    });
    assert.equal(mixed.slicesOplog.partitions, 24);
    assert.equal(mixed.commands.partitions, 2);
    assert.equal(mixed.phases.partitions, 1);
    assert.equal(mixed.slicesOplogDlq.partitions, 1);
    for (const bad of ['0', 'x', 'slices=', 'nope=3', 'slices=3=4', '1.5']) {
      assert.throws(() => partitionsFor(TOPIC_SPECS.phases, bad), TopicConfigError, bad);
    }
  });
});

describe('docs/topics.md', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'docs', 'topics.md'), 'utf8');
  const rows = new Map(
    doc
      .split('\n')
      .filter((l) => l.startsWith('| `tidemark.'))
      .map((l) => l.split('|').map((c) => c.trim()))
      .map((cells) => [cells[1]?.replace(/`/g, '') ?? '', cells] as const),
  );

  it('has one table row per declared topic with its partitions, retention and max.message.bytes', () => {
    assert.deepEqual(
      [...rows.keys()].sort(),
      topicList(topics)
        .map((t) => t.name)
        .sort(),
    );
    for (const t of topicList(topics)) {
      const cells = rows.get(t.name) ?? [];
      const row = cells.join(' | ');
      assert.ok(row.includes(String(t.partitions)), `${t.name}: partitions ${t.partitions} in "${row}"`);
      assert.ok(row.includes(`${t.retentionMs / 86_400_000} d`), `${t.name}: retention in "${row}"`);
      assert.ok(
        row.includes(String(t.maxMessageBytes)),
        `${t.name}: max.message.bytes ${t.maxMessageBytes} in "${row}"`,
      );
      assert.ok(
        row.includes(t.value === null ? 'original bytes' : (t.value.split('.').pop() as string)),
        `${t.name}: value`,
      );
      for (const app of [...t.producers, ...t.consumers])
        assert.ok(row.includes(app), `${t.name}: ${app} in "${row}"`);
    }
  });
});
