/**
 * Live views of a project for the Backup page's stream (`GET /api/v1/projects/:name/stream`): one shared poll per
 * project, however many browsers watch it, and a bounded number of watchers in all.
 *
 * - A project is polled only while someone watches it: the first subscriber starts its poll, the last one to leave
 *   stops it. Each poll runs `load(project)` once and starts `intervalMs` after the previous one ENDED, so a slow
 *   backing store is never asked twice at once for the same project.
 * - A subscriber gets the newest view at once (when one was loaded), then every view that differs from the one
 *   before it (compared as JSON): an unchanged project costs its poll and nothing else.
 * - A failed poll is told to the subscribers once (`{ kind: 'error' }`, {@link FEED_UNAVAILABLE}: the cause goes
 *   to `onError`, never to a browser), until a poll succeeds again; the poll carries on.
 * - At most `maxSubscribers` subscriptions in all: one more is refused with {@link ProjectFeedFullError}
 *   (retriable; the API answers 503), so the page cannot be used to make job-state poll without bound.
 */
import { TidemarkError } from '@tidemark/domain';

/** What a subscriber is told. */
export type ProjectFeedEvent<T> =
  { readonly kind: 'view'; readonly view: T } | { readonly kind: 'error'; readonly message: string };

export interface ProjectFeedOptions<T> {
  /** One poll of a project's view. */
  readonly load: (project: string) => Promise<T>;
  /** Rest between the end of one poll and the start of the next. */
  readonly intervalMs: number;
  /** Subscriptions at once, over all projects. */
  readonly maxSubscribers: number;
  /** Told each failed poll with the cause (for the service's log); subscribers get no driver detail. */
  readonly onError?: (project: string, err: unknown) => void;
}

/** What subscribers are told when a poll fails: no detail of the cause (it goes to the log). */
export const FEED_UNAVAILABLE = "job-state could not read the project's jobs just now; retrying";

/** Too many watchers at once: retriable, a later attempt may find room. */
export class ProjectFeedFullError extends TidemarkError {
  override readonly name: string = 'ProjectFeedFullError';
  constructor(readonly maxSubscribers: number) {
    super(`too many live views are open (at most ${maxSubscribers}); try again later`, { retriable: true });
  }
}

type Listener<T> = (event: ProjectFeedEvent<T>) => void;

interface ProjectPoll<T> {
  readonly listeners: Set<Listener<T>>;
  last: { json: string; view: T } | undefined;
  failed: boolean;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
}

export class ProjectFeed<T> {
  private readonly polls = new Map<string, ProjectPoll<T>>();
  private subscribers = 0;
  private closed = false;

  constructor(private readonly options: ProjectFeedOptions<T>) {}

  /** Open subscriptions, over all projects. */
  get size(): number {
    return this.subscribers;
  }

  /** True when one more subscription would be refused. */
  get full(): boolean {
    return this.subscribers >= this.options.maxSubscribers;
  }

  get maxSubscribers(): number {
    return this.options.maxSubscribers;
  }

  /** Projects being polled now. */
  get polledProjects(): string[] {
    return [...this.polls.keys()];
  }

  /**
   * Watches `project`: `listener` gets its view now (when one is known) and each change. Returns the function that
   * ends the subscription (idempotent). Throws {@link ProjectFeedFullError} when `maxSubscribers` are open.
   */
  subscribe(project: string, listener: Listener<T>): () => void {
    if (this.closed) throw new TidemarkError('the live view is shutting down', { retriable: true });
    if (this.full) throw new ProjectFeedFullError(this.options.maxSubscribers);
    let poll = this.polls.get(project);
    if (poll === undefined) {
      poll = { listeners: new Set(), last: undefined, failed: false, timer: undefined, running: false };
      this.polls.set(project, poll);
    }
    // A function of its own per subscription, so one listener subscribed twice counts twice.
    const own: Listener<T> = (event) => listener(event);
    poll.listeners.add(own);
    this.subscribers++;
    if (poll.last !== undefined) own({ kind: 'view', view: poll.last.view });
    if (!poll.running && poll.timer === undefined) void this.run(project, poll);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers--;
      poll.listeners.delete(own);
      if (poll.listeners.size === 0) this.stop(project, poll);
    };
  }

  /** Stops every poll; subscriptions get nothing more. */
  close(): void {
    this.closed = true;
    for (const [project, poll] of this.polls) {
      poll.listeners.clear();
      this.stop(project, poll);
    }
    this.subscribers = 0;
  }

  private stop(project: string, poll: ProjectPoll<T>): void {
    if (poll.timer !== undefined) clearTimeout(poll.timer);
    poll.timer = undefined;
    if (this.polls.get(project) === poll) this.polls.delete(project);
  }

  private async run(project: string, poll: ProjectPoll<T>): Promise<void> {
    poll.timer = undefined;
    if (this.polls.get(project) !== poll) return;
    poll.running = true;
    let event: ProjectFeedEvent<T> | undefined;
    try {
      const view = await this.options.load(project);
      const json = JSON.stringify(view);
      if (poll.last === undefined || poll.last.json !== json || poll.failed) event = { kind: 'view', view };
      poll.last = { json, view };
      poll.failed = false;
    } catch (err) {
      this.options.onError?.(project, err);
      if (!poll.failed) event = { kind: 'error', message: FEED_UNAVAILABLE };
      poll.failed = true;
    } finally {
      poll.running = false;
    }
    if (this.polls.get(project) !== poll) return;
    if (event !== undefined) for (const listener of [...poll.listeners]) listener(event);
    poll.timer = setTimeout(() => void this.run(project, poll), this.options.intervalMs);
    poll.timer.unref?.();
  }
}
