import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FEED_UNAVAILABLE,
  ProjectFeed,
  ProjectFeedFullError,
  type ProjectFeedEvent,
  type ProjectFeedOptions,
} from './project-feed';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A project whose view the test sets, counting the loads per project and how many ran at once. */
function source() {
  const views = new Map<string, unknown>();
  const loads = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let failing: Error | undefined;
  const load = async (project: string) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    loads.set(project, (loads.get(project) ?? 0) + 1);
    await sleep(3);
    inFlight--;
    if (failing) throw failing;
    return views.get(project) ?? { project, jobs: [] };
  };
  return {
    views,
    loads: (p: string) => loads.get(p) ?? 0,
    maxInFlight: () => maxInFlight,
    fail: (err: Error | undefined) => void (failing = err),
    load,
  };
}

function feedOf(
  src: ReturnType<typeof source>,
  more: Partial<ProjectFeedOptions<unknown>> = {},
): ProjectFeed<unknown> {
  return new ProjectFeed<unknown>({ load: src.load, intervalMs: 10, maxSubscribers: 3, ...more });
}

describe('ProjectFeed', () => {
  it('one poll per project however many watch it; a change reaches every watcher, an unchanged view nobody', async () => {
    const src = source();
    const feed = feedOf(src);
    const a: ProjectFeedEvent<unknown>[] = [];
    const b: ProjectFeedEvent<unknown>[] = [];
    const stopA = feed.subscribe('shop', (e) => a.push(e));
    const stopB = feed.subscribe('shop', (e) => b.push(e));
    await until('the first view', () => a.length === 1 && b.length === 1);
    await sleep(80); // several polls of an unchanged project
    assert.equal(a.length, 1, 'an unchanged view is not sent again');
    const polls = src.loads('shop');
    assert.ok(polls >= 3, `polled ${polls} times`);
    assert.equal(src.maxInFlight(), 1, 'never two loads at once, however many watchers');
    src.views.set('shop', { project: 'shop', jobs: [{ id: 'j1' }] });
    await until('the change', () => a.length === 2 && b.length === 2);
    assert.deepEqual(a[1], { kind: 'view', view: { project: 'shop', jobs: [{ id: 'j1' }] } });
    stopA();
    stopB();
    feed.close();
  });

  it('a late watcher gets the newest view at once; the poll stops when the last watcher leaves', async () => {
    const src = source();
    const feed = feedOf(src);
    const stop = feed.subscribe('shop', () => undefined);
    await until('a first poll', () => src.loads('shop') >= 1);
    await sleep(20);
    const late: ProjectFeedEvent<unknown>[] = [];
    const stopLate = feed.subscribe('shop', (e) => late.push(e));
    assert.equal(late.length, 1, 'the newest view, without waiting for a poll');
    stop();
    stopLate();
    stopLate(); // idempotent
    assert.equal(feed.size, 0);
    assert.deepEqual(feed.polledProjects, []);
    await sleep(20);
    const after = src.loads('shop');
    await sleep(60);
    assert.equal(src.loads('shop'), after, 'nobody watches: no poll');
    feed.close();
  });

  it('refuses a watcher beyond maxSubscribers (retriable), and takes one again after another left', () => {
    const src = source();
    const feed = feedOf(src);
    const stops = [1, 2, 3].map((n) => feed.subscribe(`p${n}`, () => undefined));
    assert.throws(
      () => feed.subscribe('p4', () => undefined),
      (err: unknown) => err instanceof ProjectFeedFullError && err.retriable && /at most 3/.test(err.message),
    );
    stops[0]!();
    const again = feed.subscribe('p4', () => undefined);
    again();
    for (const s of stops) s();
    feed.close();
  });

  it('a failing poll is told once without its cause, the poll goes on, and the view comes back', async () => {
    const src = source();
    const causes: unknown[] = [];
    const feed = feedOf(src, { onError: (_p, err) => causes.push(err) });
    const events: ProjectFeedEvent<unknown>[] = [];
    const stop = feed.subscribe('shop', (e) => events.push(e));
    await until('the first view', () => events.length === 1);
    src.fail(new Error('connect ECONNREFUSED mongodb://admin:hunter2@backup'));
    await until('the error', () => events.length === 2);
    await sleep(50);
    assert.equal(events.length, 2, 'one error event while it keeps failing');
    assert.deepEqual(events[1], { kind: 'error', message: FEED_UNAVAILABLE });
    assert.ok(causes.length >= 2, 'each failure goes to the log');
    src.fail(undefined);
    await until('the view again', () => events.length === 3);
    assert.equal(events[2]?.kind, 'view');
    stop();
    feed.close();
  });
});
