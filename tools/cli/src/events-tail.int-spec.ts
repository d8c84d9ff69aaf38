/**
 * `tidemark events tail` against the real Kafka broker, run as a child process the way an operator runs it: events
 * of six topics published through Tidemark's own producer path (the golden fixtures, one written by an older
 * schema version), a message that does not decode, another job's events; read back as JSON lines and as readable
 * lines, filtered by job, from earliest, from a time and from latest, ended by `--max`, `--idle-ms` and SIGTERM,
 * and leaving no committed offset behind. Topics under a prefix of their own, deleted at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import { resolveEndpoints } from '@tidemark/config';
import { ensureTopics, resolveTopics, type RecordTopic, type RecordName } from '@tidemark/bus';
import {
  TestKafka,
  fixtureEvent,
  publishFixtureEvent,
  type FixtureEvent,
  type PublishedEvent,
} from '@tidemark/bus-testing';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
const prefix = `it-tail-${randomBytes(4).toString('hex')}`;
const topics = resolveTopics({ prefix, env: {} });
const JOB = `jt${randomBytes(3).toString('hex')}`;
const OTHER = `jo${randomBytes(3).toString('hex')}`;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tidemark events tail` through the CLI's entry point (`bin/tidemark.js`, which runs the command in a child
 * process); `onStderr` sees its stderr as it grows and may act on the process (e.g. signal it). `group` starts it in
 * a process group of its own, as a shell runs a foreground job, so the test can send what Ctrl-C sends.
 */
function tail(
  args: string[],
  options: { group?: boolean; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'events', 'tail', '--prefix', prefix, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.group === true,
    });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const where = (e: { topic: unknown; partition: unknown; offset: unknown }) =>
  `${String(e.topic)}/${String(e.partition)}@${String(e.offset)}`;

describe('tidemark events tail (real Kafka)', () => {
  let kafka: TestKafka;
  let producer: Producer;
  const published: PublishedEvent[] = [];
  let garbage: { topic: string; partition: number; offset: string };
  let otherJobEvents = 0;

  const send = async <R extends RecordName>(topic: RecordTopic<R>, event: FixtureEvent<R>) => {
    const p = await publishFixtureEvent(producer, topic, event);
    return p as PublishedEvent;
  };

  before(async () => {
    kafka = new TestKafka(resolveEndpoints().kafka.brokers, prefix);
    await ensureTopics(kafka.kafka, [
      topics.phases,
      topics.commands,
      topics.alerts,
      topics.snapshots,
      topics.restores,
      topics.slicesStored,
    ]);
    producer = await kafka.producer();
    published.push(
      await send(topics.phases, fixtureEvent('tidemark.phases.PhaseChanged', JOB)),
      await send(topics.commands, fixtureEvent('tidemark.commands.JobCommand', JOB)),
      await send(topics.commands, fixtureEvent('tidemark.commands.JobCommand', JOB, 1)),
      await send(topics.alerts, fixtureEvent('tidemark.alerts.AlertRaised', JOB)),
      await send(topics.snapshots, fixtureEvent('tidemark.snapshots.SnapshotEvent', JOB)),
      await send(topics.restores, fixtureEvent('tidemark.restores.RestoreEvent', JOB)),
      await send(topics.slicesStored, fixtureEvent('tidemark.slices.SliceStored', JOB)),
    );
    await send(topics.phases, fixtureEvent('tidemark.phases.PhaseChanged', OTHER));
    await send(topics.alerts, fixtureEvent('tidemark.alerts.AlertRaised', OTHER));
    otherJobEvents = 2;
    const [meta] = await producer.send({
      topic: topics.phases.name,
      acks: -1,
      messages: [{ key: JOB, value: Buffer.from('not avro at all') }],
    });
    garbage = { topic: topics.phases.name, partition: meta!.partition, offset: meta!.baseOffset! };
  });

  after(async () => {
    await kafka?.cleanup([]);
  });

  it('--json --job --from earliest: every event of the job once, decoded to the current version, and the undecodable message as an error line', async () => {
    const run = await tail(['--json', '--job', JOB, '--from', 'earliest', '--idle-ms', '4000']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /stopped by idle/);
    const lines = jsonLines(run.stdout);
    const errors = lines.filter((l) => 'error' in l);
    const events = lines.filter((l) => !('error' in l));
    assert.equal(errors.length, 1, run.stdout);
    assert.equal(where(errors[0] as never), where(garbage));
    assert.match(String(errors[0]!['error']), /c301|marker|single-object/i);
    assert.deepEqual(
      events.map((e) => where(e as never)).sort(),
      published.map((p) => where(p)).sort(),
      'exactly the job events, no other job',
    );
    for (const p of published) {
      const got = events.find((e) => where(e as never) === where(p))!;
      assert.equal(got['record'], p.record);
      assert.equal(got['writerVersion'], p.version);
      assert.equal(got['jobId'], JOB);
      assert.deepEqual(got['value'], p.expected, `${p.record} v${p.version}`);
    }
    assert.ok(run.stderr.includes(`${published.length + 1} event(s) shown (1 undecodable)`), run.stderr);
    assert.ok(run.stderr.includes(`of ${published.length + 1 + otherJobEvents} read`), run.stderr);
  });

  it('readable lines: time, topic, partition@offset, job, event type and key fields; --topic short and full names; --max ends it', async () => {
    const run = await tail([
      '--topic',
      'commands',
      '--topic',
      'tidemark.alerts',
      '--job',
      JOB,
      '--from',
      'earliest',
      '--max',
      '3',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /stopped by max/);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 3, run.stdout);
    const command = published.find((p) => p.record === 'tidemark.commands.JobCommand' && p.version === 2)!;
    const alert = published.find((p) => p.record === 'tidemark.alerts.AlertRaised')!;
    const e = command.expected as { issuedAt: string; action: string; commandId: string };
    assert.ok(
      lines.includes(
        `${e.issuedAt} ${command.topic} ${command.partition}@${command.offset} ${JOB} COMMAND ${e.action} commandId=${e.commandId} snapshotId=snap-20260115T120000Z requestId=req-5c21`,
      ),
      run.stdout,
    );
    const a = alert.expected as {
      at: string;
      severity: string;
      code: string;
      alertId: string;
      state?: string | null;
    };
    const line = lines.find((l) => l.includes(`${alert.topic} ${alert.partition}@${alert.offset}`));
    assert.ok(
      line?.startsWith(
        `${a.at} ${alert.topic} ${alert.partition}@${alert.offset} ${JOB} ALERT ${a.severity} ${a.code}` +
          `${(a.state ?? null) === null ? '' : ` ${a.state}`} alertId=${a.alertId} message="`,
      ),
      line,
    );
  });

  it('--from TIME starts each partition at the first message at or after that time', async () => {
    await sleep(50);
    const at = new Date();
    await sleep(50);
    const later = await send(topics.restores, fixtureEvent('tidemark.restores.RestoreEvent', JOB));
    const run = await tail(['--json', '--from', at.toISOString(), '--idle-ms', '4000']);
    assert.equal(run.code, 0, run.stderr);
    const lines = jsonLines(run.stdout);
    assert.deepEqual(
      lines.map((l) => where(l as never)),
      [where(later)],
    );
  });

  /**
   * Starts a tail from latest, publishes one event once it says it is reading, then stops it with `stop`; returns
   * the run and the event.
   */
  async function tailLatestThenStop(
    stop: (child: ReturnType<typeof spawn>) => void,
    group: boolean,
  ): Promise<{ run: Run; event: PublishedEvent }> {
    let event: Promise<PublishedEvent> | undefined;
    const run = await tail(['--json', '--from', 'latest', '--job', JOB], {
      group,
      onStderr: (text, child) => {
        if (event !== undefined || !text.includes('reading ')) return;
        event = send(topics.phases, fixtureEvent('tidemark.phases.PhaseChanged', JOB)).then(async (p) => {
          await sleep(3000); // time to print it
          stop(child);
          return p;
        });
      },
    });
    assert.ok(event !== undefined, `the tail never said it was reading: ${run.stderr}`);
    return { run, event: await event };
  }

  async function assertNoTailOffsets(): Promise<void> {
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      const groups = (await admin.listGroups()).groups.filter((g) =>
        g.groupId.startsWith('tidemark-events-tail-'),
      );
      for (const g of groups) {
        const offsets = await admin.fetchOffsets({ groupId: g.groupId, topics: [topics.phases.name] });
        for (const t of offsets)
          for (const p of t.partitions)
            assert.equal(p.offset, '-1', `${g.groupId} committed ${t.topic}/${p.partition}`);
      }
    } finally {
      await admin.disconnect();
    }
  }

  it('--from latest shows what arrives after it is ready; SIGTERM to `tidemark` stops it cleanly, committing nothing', async () => {
    const { run, event } = await tailLatestThenStop((child) => child.kill('SIGTERM'), false);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /SIGTERM: stopping/);
    assert.match(run.stderr, /1 event\(s\) shown .*stopped by signal/);
    assert.deepEqual(
      jsonLines(run.stdout).map((l) => where(l as never)),
      [where(event)],
    );
    await assertNoTailOffsets();
  });

  it('Ctrl-C (SIGINT to the foreground process group) stops it cleanly too', async () => {
    const { run, event } = await tailLatestThenStop((child) => process.kill(-child.pid!, 'SIGINT'), true);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /SIGINT: stopping/);
    assert.match(run.stderr, /stopped by signal/);
    assert.deepEqual(
      jsonLines(run.stdout).map((l) => where(l as never)),
      [where(event)],
    );
    await assertNoTailOffsets();
  });

  it('refuses a missing topic and wrong usage with a clear error', async () => {
    const bad = await tail(['--from', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from takes earliest, latest or an ISO-8601 time/);
    const unknown = await tail(['--topic', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown topic "nope"/);
    const missing = await tail(['--topic', 'snapshots.dlq', '--idle-ms', '1000']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`no topic ${prefix}\\.tidemark\\.snapshots\\.dlq`));
  });
});
