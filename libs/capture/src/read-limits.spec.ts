import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OplogBatch } from '@tidemark/domain';
import type { AgentJob, CapturePosition } from './ports';
import { batchReadBytes, JobReadLimits, pollReadLimits } from './read-limits';
import { MemorySource } from './testing/memory-source';

/** A clock that moves only when a bucket sleeps; the sleeps are recorded. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason as Error;
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

function recordingLogger() {
  const events: Record<string, unknown>[] = [];
  return { events, event: (fields: Record<string, unknown>) => void events.push(fields) };
}

/** 100 documents of about 10 kB each (1 MB in all). */
function sourceWithMegabyte(): MemorySource {
  const source = new MemorySource();
  source.addCollection(
    'shop.orders',
    Array.from({ length: 100 }, (_, k) => ({ _id: k, pad: 'x'.repeat(10_000 - 30) })),
  );
  return source;
}

async function scanAll(source: ReturnType<JobReadLimits['throttled']>): Promise<number> {
  let bytes = 0;
  for await (const doc of source.scan('shop.orders', {})) bytes += doc.length;
  return bytes;
}

describe('JobReadLimits', () => {
  it('paces a job’s scan to its limit, from the first byte, and logs when throttling starts', async () => {
    const time = fakeTime();
    const logger = recordingLogger();
    const limits = new JobReadLimits({ now: time.now, sleep: time.sleep, logger });
    limits.set('job1', 0.5, 'command'); // 500 kB/s
    limits.renew('job1');
    const bytes = await scanAll(limits.throttled(sourceWithMegabyte(), 'job1'));
    const seconds = time.now() / 1000;
    assert.ok(bytes / seconds <= 500_000, `not faster than the limit: ${bytes / seconds} B/s`);
    assert.ok(bytes / seconds >= 450_000, `within 10%: ${bytes / seconds} B/s`);
    assert.deepEqual(
      logger.events.map((e) => [e['event'], e['readLimit']]),
      [
        ['read-limit-changed', '0.5 MB/s'],
        ['read-throttled', '0.5 MB/s'],
      ],
    );
  });

  it('gives every job a bucket of its own: an uncapped job never waits for a capped one', async () => {
    const time = fakeTime();
    const limits = new JobReadLimits({ now: time.now, sleep: time.sleep });
    limits.applyListed([
      { id: 'capped', readLimit: 0.1 },
      { id: 'free', readLimit: undefined },
    ]);
    await scanAll(limits.throttled(sourceWithMegabyte(), 'free'));
    assert.deepEqual(time.sleeps, [], 'the uncapped job read at once');
    await scanAll(limits.throttled(sourceWithMegabyte(), 'capped'));
    assert.ok(time.now() >= 9_000, `the capped job took its 10 s: ${time.now()} ms`);
    assert.equal(limits.limitOf('free'), undefined);
    assert.equal(limits.limitOf('capped'), 0.1);
  });

  it('applies a changed limit to a scan under way', async () => {
    const time = fakeTime();
    const limits = new JobReadLimits({ now: time.now, sleep: time.sleep });
    limits.set('job1', 0.1, 'command'); // 100 kB/s
    const source = limits.throttled(sourceWithMegabyte(), 'job1');
    let bytes = 0;
    let raisedAt = 0;
    for await (const doc of source.scan('shop.orders', {})) {
      bytes += doc.length;
      if (raisedAt === 0 && bytes >= 500_000) {
        raisedAt = time.now();
        limits.set('job1', 1, 'job-state'); // 1 MB/s for the second half
      }
    }
    assert.ok(raisedAt >= 4_500 && raisedAt <= 5_100, `first half at 100 kB/s: ${raisedAt} ms`);
    const second = time.now() - raisedAt;
    assert.ok(second >= 450 && second <= 600, `second half at 1 MB/s: ${second} ms`);
  });

  it('asks a capped scan for about one second of its rate per server batch', async () => {
    const limits = new JobReadLimits({ ...fakeTime() });
    const memory = sourceWithMegabyte(); // 10 kB documents
    const asked: (number | undefined)[] = [];
    const recording: typeof memory = Object.assign(Object.create(memory) as typeof memory, {
      scan: (ns: string, options: { signal?: AbortSignal; batchSize?: number }) => {
        asked.push(options.batchSize);
        return memory.scan(ns, options);
      },
    });
    const filters = { include: ['shop'], exclude: [] };
    const free = limits.throttled(recording, 'free');
    await free.listNamespaces(filters);
    await scanAll(free);
    limits.set('slow', 0.05, 'command'); // 50 kB/s: 5 documents a second
    const slow = limits.throttled(recording, 'slow');
    await slow.listNamespaces(filters);
    await scanAll(slow);
    limits.set('fast', 5000, 'command'); // more than the default batch a second
    const fast = limits.throttled(recording, 'fast');
    await fast.listNamespaces(filters);
    await scanAll(fast);
    assert.deepEqual(asked, [undefined, 5, 1000]);
  });

  it('counts what the tail read of the source, other namespaces included', () => {
    const entry = { ts: { t: 1, i: 1 }, raw: Buffer.alloc(40) };
    const batch: OplogBatch = { entries: [entry], lastTs: entry.ts, sourceTs: entry.ts };
    assert.equal(batchReadBytes(batch), 40, 'without readBytes: the entries');
    assert.equal(batchReadBytes({ ...batch, readBytes: 400 }), 400);
    assert.equal(batchReadBytes({ ...batch, entries: [], readBytes: 0 }), 0);
  });

  it('paces the tail by the bytes it read', async () => {
    const time = fakeTime();
    const limits = new JobReadLimits({ now: time.now, sleep: time.sleep });
    limits.set('job1', 0.01, 'command'); // 10 kB/s
    const source = new MemorySource();
    for (let k = 0; k < 50; k++) source.append('i', 'shop.orders', { _id: k, pad: 'y'.repeat(1000) });
    const controller = new AbortController();
    let entries = 0;
    let bytes = 0;
    for await (const batch of limits
      .throttled(source, 'job1')
      .tail('job1', { t: 0, i: 0 }, { include: ['shop'], exclude: [] }, controller.signal)) {
      entries += batch.entries.length;
      bytes += batchReadBytes(batch);
      if (entries >= 50) break;
    }
    controller.abort();
    assert.ok(time.now() >= ((bytes - 10_000) / 10_000) * 1000, `${bytes} bytes in ${time.now()} ms`);
  });
});

describe('pollReadLimits', () => {
  it('applies job-state’s list every interval, keeps the limits through failures, and stops on abort', async () => {
    const controller = new AbortController();
    const logger = recordingLogger();
    const answers: (AgentJob[] | Error)[] = [
      [job('a', 2)],
      new Error('job-state unreachable'),
      new Error('job-state unreachable'),
      [job('a', 5)],
    ];
    const applied: (number | undefined)[] = [];
    let polls = 0;
    await pollReadLimits({
      jobState: {
        listAgentJobs: async () => {
          const answer = answers[polls++];
          if (polls >= answers.length) controller.abort();
          if (answer instanceof Error) throw answer;
          return answer ?? [];
        },
        reportCapture: async () => undefined,
      },
      limits: { applyListed: (jobs) => void applied.push(jobs[0]?.readLimit) },
      intervalMs: 1000,
      signal: controller.signal,
      logger,
      sleep: async (_ms, signal) => {
        if (signal?.aborted) throw signal.reason as Error;
      },
    });
    assert.equal(polls, 4);
    assert.deepEqual(applied, [2, 5], 'a failed poll changes nothing');
    assert.deepEqual(
      logger.events.map((e) => e['event']),
      ['read-limits-poll-failed', 'read-limits-poll-recovered'],
    );
    assert.equal(logger.events[1]!['failures'], 2);
  });
  it("reports the running jobs' capture positions to job-state after each poll, none when no job runs", async () => {
    const controller = new AbortController();
    const reported: (readonly CapturePosition[])[] = [];
    const running: CapturePosition[][] = [
      [],
      [{ jobId: 'a', syncId: 'a-s1', sourceTs: { t: 10, i: 2 }, shippedTs: { t: 9, i: 1 } }],
    ];
    let polls = 0;
    await pollReadLimits({
      jobState: {
        listAgentJobs: async () => {
          if (++polls >= running.length) controller.abort();
          return [];
        },
        reportCapture: async (positions) => void reported.push(positions),
      },
      limits: { applyListed: () => undefined },
      capture: () => running[polls - 1] ?? [],
      intervalMs: 1000,
      signal: controller.signal,
      sleep: async (_ms, signal) => {
        if (signal?.aborted) throw signal.reason as Error;
      },
    });
    assert.deepEqual(reported, [running[1]]);
  });
});

function job(id: string, readLimit: number | undefined): AgentJob {
  return {
    id,
    state: 'active',
    phase: 'complete',
    syncId: `${id}-s1`,
    syncNo: 1,
    sourceUri: 'mongodb://src/',
    filters: { include: [], exclude: [] },
    readLimit,
  };
}
