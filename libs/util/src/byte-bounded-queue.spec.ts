import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBoundedQueue, QueueClosedError } from './byte-bounded-queue';
import { sleep } from './sleep';

/** Items are strings; an item's size is its length. */
function queue(maxItems: number, maxBytes: number): ByteBoundedQueue<string> {
  return new ByteBoundedQueue<string>({ maxItems, maxBytes, sizeOf: (s) => s.length });
}

/** Whether `promise` has settled after pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(1);
  return done;
}

describe('ByteBoundedQueue', () => {
  it('hands items over in order', async () => {
    const q = queue(10, 100);
    await q.put('a');
    await q.put('bb');
    assert.equal(q.length, 2);
    assert.equal(q.byteLength, 3);
    assert.equal(await q.take(), 'a');
    assert.equal(await q.take(), 'bb');
    assert.equal(q.byteLength, 0);
  });

  it('makes a consumer wait until an item arrives', async () => {
    const q = queue(10, 100);
    const taken = q.take();
    assert.equal(await settled(taken), false);
    await q.put('x');
    assert.equal(await taken, 'x');
  });

  it('applies back-pressure on the item count', async () => {
    const q = queue(2, 1000);
    await q.put('a');
    await q.put('b');
    const third = q.put('c');
    assert.equal(await settled(third), false, 'put waits while the queue holds maxItems');
    assert.equal(await q.take(), 'a');
    await third;
    assert.deepEqual(await q.drain(), ['b', 'c']);
  });

  it('applies back-pressure on bytes', async () => {
    const q = queue(100, 10);
    await q.put('123456');
    const blocked = q.put('12345');
    assert.equal(await settled(blocked), false, '6 + 5 bytes would pass maxBytes 10');
    const empty = q.put('');
    assert.equal(await settled(empty), false, 'even a zero-byte item queues behind the waiting one');
    assert.equal(await q.take(), '123456');
    await Promise.all([blocked, empty]);
    assert.deepEqual(await q.drain(), ['12345', '']);
  });

  it('admits waiting producers in order, never letting a small item jump the queue', async () => {
    const q = queue(100, 10);
    await q.put('12345678');
    const order: string[] = [];
    const big = q.put('123456').then(() => order.push('big'));
    const small = q.put('1').then(() => order.push('small'));
    assert.equal(await settled(small), false, 'the small item fits by bytes but waits behind the big one');
    assert.equal(await q.take(), '12345678');
    await Promise.all([big, small]);
    assert.deepEqual(order, ['big', 'small']);
  });

  it('always admits one item into an empty queue, even if it is larger than maxBytes', async () => {
    const q = queue(10, 4);
    await q.put('way too large');
    assert.equal(q.byteLength, 13);
    const next = q.put('a');
    assert.equal(await settled(next), false);
    assert.equal(await q.take(), 'way too large');
    await next;
  });

  it('drains a batch bounded by items and bytes, but always at least one item', async () => {
    const q = queue(10, 100);
    for (const s of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeeeeeeeeeee']) await q.put(s);
    assert.deepEqual(await q.drain(2, 100), ['aaaa', 'bbbb']);
    assert.deepEqual(await q.drain(10, 9), ['cccc', 'dddd']);
    assert.deepEqual(await q.drain(10, 5), ['eeeeeeeeeeee'], 'an oversized item still comes out alone');
  });

  it('after close, gives the remaining items, then the end', async () => {
    const q = queue(10, 100);
    await q.put('a');
    q.close();
    assert.ok(q.closed);
    assert.equal(await q.take(), 'a');
    assert.equal(await q.take(), undefined);
    assert.deepEqual(await q.drain(), []);
    await assert.rejects(q.put('b'), QueueClosedError);
  });

  it('wakes waiting consumers with the end on close, and rejects waiting producers', async () => {
    const q = queue(1, 100);
    const waitingTake = queue(1, 100);
    const pendingTake = waitingTake.take();
    waitingTake.close();
    assert.equal(await pendingTake, undefined);

    await q.put('a');
    const pendingPut = q.put('b');
    q.close();
    await assert.rejects(pendingPut, QueueClosedError);
    assert.equal(await q.take(), 'a');
  });

  it('raises a producer failure on the next take, even with items queued', async () => {
    const q = queue(10, 100);
    await q.put('a');
    const failure = new Error('oplog cursor died');
    q.fail(failure);
    await assert.rejects(q.take(), (err: unknown) => err === failure);
    await assert.rejects(q.drain(), (err: unknown) => err === failure, 'and on every take after');
    await assert.rejects(
      q.put('b'),
      (err: unknown) => err instanceof QueueClosedError && err.cause === failure,
    );
  });

  it('raises a producer failure in a consumer that is already waiting', async () => {
    const q = queue(10, 100);
    const waiting = q.take();
    const failure = new Error('boom');
    q.fail(failure);
    q.fail(new Error('second'));
    await assert.rejects(waiting, (err: unknown) => err === failure);
    await assert.rejects(q.take(), (err: unknown) => err === failure, 'the first failure is kept');
  });

  it('rejects a producer waiting for room when the queue fails', async () => {
    const q = queue(1, 100);
    await q.put('a');
    const waiting = q.put('b');
    q.fail(new Error('x'));
    await assert.rejects(waiting, QueueClosedError);
  });

  it('iterates until closed, and throws a failure from the loop', async () => {
    const q = queue(2, 100);
    const producer = (async () => {
      for (const s of ['a', 'b', 'c', 'd', 'e']) await q.put(s);
      q.close();
    })();
    const seen: string[] = [];
    for await (const item of q) seen.push(item);
    await producer;
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);

    const failing = queue(2, 100);
    await failing.put('a');
    setTimeout(() => failing.fail(new Error('reader failed')), 5);
    await assert.rejects(
      (async () => {
        for await (const _item of failing) {
          // keep consuming
        }
      })(),
      /reader failed/,
    );
  });

  it('keeps memory bounded under a fast producer and a slow consumer', async () => {
    const q = queue(1000, 50);
    let peak = 0;
    const producer = (async () => {
      for (let n = 0; n < 200; n += 1) {
        await q.put('0123456789');
        peak = Math.max(peak, q.byteLength);
      }
      q.close();
    })();
    let count = 0;
    for (;;) {
      const batch = await q.drain(3);
      if (batch.length === 0) break;
      count += batch.length;
      if (count % 30 === 0) await sleep(1);
    }
    await producer;
    assert.equal(count, 200);
    assert.ok(peak <= 50, `peak bytes ${peak}`);
  });

  it('stops waiting when the signal aborts, without queueing the item', async () => {
    const q = queue(1, 100);
    await q.put('a');
    const controller = new AbortController();
    const pending = q.put('b', controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
    assert.equal(await q.take(), 'a');
    assert.equal(q.length, 0);

    const takeController = new AbortController();
    const pendingTake = q.take(takeController.signal);
    takeController.abort();
    await assert.rejects(pendingTake, { name: 'AbortError' });
    await q.put('c');
    assert.equal(await q.take(), 'c', 'the aborted consumer did not swallow the item');
  });

  it('rejects bad options and bad sizes', async () => {
    assert.throws(() => queue(0, 10), RangeError);
    assert.throws(() => queue(1, 0), RangeError);
    const q = new ByteBoundedQueue<number>({ maxItems: 1, maxBytes: 10, sizeOf: (n) => n });
    await assert.rejects(q.put(-1), RangeError);
    await assert.rejects(q.put(NaN), RangeError);
  });
});
