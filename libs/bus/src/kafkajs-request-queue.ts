/**
 * A fix for kafkajs 2.2.4's request queue, applied once per process by `createKafka`.
 *
 * Every broker connection of kafkajs 2.2.4 has a request queue whose `scheduleCheckPendingRequests` sets a timer even
 * when nothing is pending; with no client-side throttle its delay is negative (1 ms for Node), and the timer's
 * callback schedules the next one. So each open connection runs a ~1 ms timer loop for its whole life, idle or not:
 * measured on this project's services, ~0.8 CPU seconds per 30 s of an idle service, ~8% of a core for the six of
 * them, and as much during an initial sync, taken from the stages doing the work. Reported upstream as
 * tulios/kafkajs#1556 and #1704; the fix proposed there (#1667) is not in a release.
 *
 * The replacement schedules a check only when a request is waiting: until the throttle ends, or after the usual
 * 10 ms when it waits for a free in-flight slot (a completed request checks the queue too). A request that is
 * queued later schedules its own check (`push` calls this with the request already pending), so nothing waits
 * forever; only the idle loop goes.
 */
import { createRequire } from 'node:module';

/** The part of kafkajs's `RequestQueue` the fix touches. */
export interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's own interval for re-checking a queue that waits for an in-flight slot. */
const CHECK_PENDING_MS = 10;

const FIXED = Symbol.for('tidemark.kafkajs.request-queue-fix');

function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : CHECK_PENDING_MS,
  );
}

/** kafkajs's `RequestQueue` class (CommonJS, not part of its typed API). */
export function kafkajsRequestQueueClass(): { prototype: KafkajsRequestQueue } & (new (
  options: Record<string, unknown>,
) => KafkajsRequestQueue) {
  const load = createRequire(require.resolve('kafkajs'));
  return load('./src/network/requestQueue/index.js') as ReturnType<typeof kafkajsRequestQueueClass>;
}

/** Replaces `scheduleCheckPendingRequests` of kafkajs's request queue, once per process. Returns whether it was fixed now. */
export function fixKafkajsIdleTimerLoop(): boolean {
  const proto = kafkajsRequestQueueClass().prototype as KafkajsRequestQueue & { [FIXED]?: true };
  if (proto[FIXED]) return false;
  if (
    typeof proto.scheduleCheckPendingRequests !== 'function' ||
    typeof proto.checkPendingRequests !== 'function'
  )
    throw new Error('kafkajs request queue changed shape: review libs/bus/src/kafkajs-request-queue.ts');
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  proto[FIXED] = true;
  return true;
}
