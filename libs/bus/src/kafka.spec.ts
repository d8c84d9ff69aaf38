import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { KafkaOperationError } from './bus-errors';
import { fetchSizesFor, publish } from './kafka';
import { resolveTopics } from './topics';

const topics = resolveTopics({ env: {} });

describe('kafka client settings', () => {
  it('size consumer fetches for the largest message of the topics read', () => {
    assert.deepEqual(fetchSizesFor([topics.phases]), {
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 4 * 1024 * 1024,
    });
    const slices = fetchSizesFor([topics.phases, topics.slicesOplog]);
    assert.equal(slices.maxBytesPerPartition, topics.slicesOplog.maxMessageBytes);
    assert.ok(slices.maxBytes >= slices.maxBytesPerPartition);
  });

  it('publish refuses a record larger than the topic allows, before any network call', async () => {
    const noNetwork = {} as Producer; // never touched: the size check comes first
    await assert.rejects(
      publish(noNetwork, topics.alerts, {
        alertId: 'a',
        jobId: 'job-1',
        severity: 'WARNING',
        code: 'BIG',
        message: 'x'.repeat(2 * 1024 * 1024),
        context: {},
        at: new Date(),
        state: null,
        subject: null,
        closedAt: null,
        closeReason: null,
      }),
      (err: unknown) =>
        err instanceof KafkaOperationError && !err.retriable && err.kafkaError === 'MESSAGE_TOO_LARGE',
    );
  });
});
