/**
 * `tidemark topics ensure` against the real broker, under a prefix of its own: the first run creates every topic
 * of `topicList(resolveTopics())` with its declared partitions and configs; a second run creates nothing and finds
 * them all; a topic whose `max.message.bytes` was lowered by hand is raised back; wrong usage exits 2.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ConfigResourceTypes } from 'kafkajs';
import { resolveEndpoints } from '@tidemark/config';
import { resolveTopics, topicList } from '@tidemark/bus';
import { TestKafka } from '@tidemark/bus-testing';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
const prefix = `it-topics-${randomBytes(4).toString('hex')}`;
const declared = topicList(resolveTopics({ prefix, env: {} }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('tidemark topics ensure (real Kafka)', () => {
  const kafka = new TestKafka(resolveEndpoints().kafka.brokers, prefix);
  after(() => kafka.cleanup([]));

  it('creates every declared topic, then finds them all, and raises a lowered max.message.bytes', async () => {
    const first = await cli('topics', 'ensure', '--prefix', prefix, '--json');
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { topics: number; created: string[]; existing: string[] };
    assert.equal(report.topics, declared.length);
    assert.deepEqual([...report.created].sort(), declared.map((t) => t.name).sort());
    assert.ok(
      declared.some((t) => t.value === null),
      'dead-letter topics are among them',
    );

    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: declared.map((t) => t.name) });
      for (const t of declared) {
        const found = metadata.topics.find((m) => m.name === t.name);
        assert.equal(found?.partitions.length, t.partitions, `${t.name} partitions`);
      }
      const slices = declared.find((t) => t.value !== null && t.maxMessageBytes > 2 * 1024 * 1024)!;
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: slices.name,
            configEntries: [
              { name: 'max.message.bytes', value: '1048576' },
              { name: 'retention.ms', value: String(slices.retentionMs) },
              { name: 'cleanup.policy', value: slices.cleanupPolicy },
            ],
          },
        ],
      });
      const second = await cli('topics', 'ensure', '--prefix', prefix);
      assert.equal(second.code, 0, second.stderr);
      assert.match(
        second.stdout,
        new RegExp(
          `${slices.name.replace(/\./g, '\\.')}\\traised max.message.bytes from 1048576 to ${slices.maxMessageBytes}`,
        ),
      );
      assert.match(
        second.stderr,
        new RegExp(`${declared.length} topics: 0 created, ${declared.length} existing, 1 altered`),
      );
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses wrong usage with exit code 2, touching nothing', async () => {
    for (const args of [
      ['topics'],
      ['topics', 'create'],
      ['topics', 'ensure', '--replication-factor', '0'],
      ['topics', 'ensure', '--replication-factor', 'three'],
      ['topics', 'ensure', 'extra'],
    ]) {
      const run = await cli(...args, '--prefix', `${prefix}-never`);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^tidemark: /);
    }
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      assert.deepEqual(
        (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}-never`)),
        [],
      );
    } finally {
      await admin.disconnect();
    }
  });
});
