/**
 * The user's actions: `POST /api/v1/jobs/:id/{start|stop|restart|terminate|resync}` (resync body `{ reason? }`).
 * 200 with the job after the action (`terminate` adds `deleting`: what the job retained, now being deleted); 409 with the reason when the state machine does not allow it; 404 for an
 * unknown job or action; 503 when the change is stored but its commands could not be sent yet (they are retried).
 */
import {
  Body,
  Controller,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseFilters,
} from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import {
  JOB_ACTION_ANSWER_SCHEMA,
  JOB_ACTION_REQUEST_SCHEMA,
  JobService,
  USER_ACTIONS,
  isUserAction,
  jobView,
  parseResyncRequest,
  type JobView,
  type RetainedView,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { Access, type AccessRequest } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

/** terminate deletes retained backups: owner; the other actions: operator. */
const roleForAction = (req: AccessRequest) => (req.params['action'] === 'terminate' ? 'owner' : 'operator');
/** The agent asks for a resync itself (`AgentRecovery`), with the service credential. */
const agentResync = (req: AccessRequest) => req.params['action'] === 'resync';

@Controller('api/v1/jobs')
@UseFilters(JobErrorsFilter)
@ApiTags('jobs')
@ApiKeyAuth()
export class JobActionsController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Post(':id/:action')
  @Access.project(roleForAction, 'job', { alsoService: agentResync })
  @HttpCode(200)
  @ApiParam({ name: 'action', schema: { enum: [...USER_ACTIONS] } })
  @ApiJsonBody(JOB_ACTION_REQUEST_SCHEMA, false)
  @ApiAnswer(200, JOB_ACTION_ANSWER_SCHEMA, 'the job after the action (terminate adds deleting)')
  @ApiErrors(403, 404, 409)
  async act(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
  ): Promise<JobView | (JobView & { deleting: RetainedView })> {
    if (!isUserAction(action)) {
      throw new NotFoundException(`unknown action "${action}": use ${USER_ACTIONS.join(', ')}`);
    }
    const reason = action === 'resync' ? parseResyncRequest(body) : undefined;
    // What terminate deletes, read before it: the job is stopped, so nothing is added meanwhile.
    const deleting = action === 'terminate' ? await this.jobs.retained(id) : undefined;
    const job = jobView(await this.jobs.act(id, action, reason));
    return deleting === undefined ? job : { ...job, deleting };
  }
}
