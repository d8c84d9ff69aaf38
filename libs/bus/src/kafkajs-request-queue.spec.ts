import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  fixKafkajsIdleTimerLoop,
  kafkajsRequestQueueClass,
  type KafkajsRequestQueue,
} from './kafkajs-request-queue';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Queue extends KafkajsRequestQueue {
  inflight: Map<number, unknown>;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  destroy(): void;
}

function queue(maxInFlightRequests: number | null = null): Queue {
  const RequestQueue = kafkajsRequestQueueClass();
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: '127.0.0.1:1',
    logger: quiet,
  }) as Queue;
}

/** A queued request as kafkajs's queue holds it: `send` is what puts it on the wire. */
function waiting(correlationId: number, sent: number[]) {
  return {
    correlationId,
    expectResponse: true,
    pendingDuration: 0,
    send: () => sent.push(correlationId),
    completed: () => {},
  };
}

describe('kafkajs request queue fix (no timer loop on an idle connection)', () => {
  fixKafkajsIdleTimerLoop();

  it('is applied once per process', () => {
    assert.equal(fixKafkajsIdleTimerLoop(), false);
  });

  it('leaves no timer behind on an idle queue (kafkajs 2.2.4 left a 1 ms one that re-armed itself)', () => {
    const q = queue();
    try {
      q.checkPendingRequests();
      q.scheduleCheckPendingRequests();
      assert.equal(q.throttleCheckTimeoutId, null);
    } finally {
      q.destroy();
    }
  });

  it('sends a request queued behind a client-side throttle once the throttle ends, then goes quiet', async () => {
    const q = queue();
    const sent: number[] = [];
    q.throttledUntil = Date.now() + 40;
    q.pending.push(waiting(1, sent));
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null);
    await sleep(15);
    assert.deepEqual(sent, [], 'not before the throttle ends');
    await sleep(60);
    assert.deepEqual(sent, [1]);
    assert.equal(q.pending.length, 0);
    assert.equal(q.throttleCheckTimeoutId, null);
    q.destroy();
  });

  it('sends a request waiting for an in-flight slot when the slot frees', async () => {
    const q = queue(1);
    const sent: number[] = [];
    q.inflight.set(7, waiting(7, sent));
    q.pending.push(waiting(8, sent));
    q.scheduleCheckPendingRequests();
    await sleep(30);
    assert.deepEqual(sent, [], 'the slot is still taken');
    q.fulfillRequest({ correlationId: 7, payload: Buffer.alloc(0), size: 0 });
    assert.deepEqual(sent, [8]);
    q.destroy();
  });
});
