/**
 * The Backup page's live view: `GET /api/v1/projects/:name/stream` (viewer of the project), server-sent events.
 * - `event: view`, data: the project's `ProjectView` (jobs with status, snapshots and restores), at once and then
 *   whenever it changes (one shared poll per project, `ProjectFeed`);
 * - `event: error`, data `{ message }`: the view could not be read (the stream stays open and recovers);
 * - `event: ping` every 15 s, so both ends notice a dead connection.
 * A stream ends after {@link STREAM_MAX_MS} (the page reconnects, so a revoked key stops seeing the project within
 * that time); 503 when too many streams are open (`TIDEMARK_UI_MAX_STREAMS`).
 */
import {
  Controller,
  Inject,
  Injectable,
  Param,
  Sse,
  UseFilters,
  UseGuards,
  type CanActivate,
  type MessageEvent,
} from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import {
  ProjectFeedFullError,
  type ProjectFeed,
  type ProjectFeedEvent,
  type ProjectView,
} from '@tidemark/jobs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from '../jobs/job-errors.filter';
import { ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { PROJECT_FEED } from '../tokens';

export const STREAM_PING_MS = 15_000;
export const STREAM_MAX_MS = 5 * 60_000;
const ORPHAN_MS = 10_000;

/**
 * 503 before the stream begins when the feed is full. Checked in a guard because an interceptor (the audit trail's)
 * subscribes to the handler only after Nest has answered 200 and begun the stream: a handler's own refusal would
 * then end the stream instead of being its status. Two requests racing past the check for the last place: the
 * handler's subscribe refuses the second, which ends its stream with an error.
 */
@Injectable()
export class StreamRoomGuard implements CanActivate {
  constructor(@Inject(PROJECT_FEED) private readonly feed: ProjectFeed<ProjectView>) {}

  canActivate(): boolean {
    if (this.feed.full) throw new ProjectFeedFullError(this.feed.maxSubscribers);
    return true;
  }
}

@Controller('api/v1/projects')
@UseFilters(JobErrorsFilter)
@ApiTags('projects')
@ApiKeyAuth()
export class ProjectStreamController {
  constructor(@Inject(PROJECT_FEED) private readonly feed: ProjectFeed<ProjectView>) {}

  @Sse(':name/stream')
  @Access.project('viewer', 'project')
  @UseGuards(StreamRoomGuard)
  @ApiResponse({
    status: 200,
    description:
      "server-sent events: `view` (the project's jobs, status, snapshots, restores), `error`, `ping`",
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(404)
  stream(@Param('name') name: string): Observable<MessageEvent> {
    // Subscribed now, so a full feed is a 503 before any event is written; events wait until Nest subscribes.
    const early: MessageEvent[] = [];
    let sink: ((m: MessageEvent) => void) | undefined;
    const stop = this.feed.subscribe(name, (event) => {
      const message = toMessage(event);
      if (sink === undefined) early.push(message);
      else sink(message);
    });
    // Nest does not subscribe when the client left meanwhile: the subscription must not outlive the request.
    const orphan = setTimeout(stop, ORPHAN_MS);
    return new Observable<MessageEvent>((subscriber) => {
      clearTimeout(orphan);
      for (const m of early.splice(0)) subscriber.next(m);
      sink = (m) => subscriber.next(m);
      const ping = setInterval(() => subscriber.next({ type: 'ping', data: {} }), STREAM_PING_MS);
      const end = setTimeout(() => subscriber.complete(), STREAM_MAX_MS);
      return () => {
        clearInterval(ping);
        clearTimeout(end);
        stop();
      };
    });
  }
}

function toMessage(event: ProjectFeedEvent<ProjectView>): MessageEvent {
  return event.kind === 'view'
    ? { type: 'view', data: event.view }
    : { type: 'error', data: { message: event.message } };
}
