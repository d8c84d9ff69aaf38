/**
 * Snapshots through job-state (docs/api.md, "Snapshots"): job-state asks the snapshotter by commands and answers
 * from its catalog, folded from the snapshotter's events.
 * - `POST /api/v1/jobs/:id/snapshots`: 202 with the snapshot `requested` (TAKE_SNAPSHOT sent); 409 unless active;
 * - `GET /api/v1/jobs/:id/snapshots`: the job's snapshots, newest first;
 * - `GET /api/v1/snapshots/:sid`: one snapshot (404 for an unknown id);
 * - `POST /api/v1/snapshots/:sid/verify`, `DELETE /api/v1/snapshots/:sid`: 202 `{ snapshotId, requestId }` once the
 *   command is stored; the result arrives as the snapshot's `lastVerify` (or state `deleted`).
 * Registered before the job actions' `POST /jobs/:id/:action`, so `snapshots` is not taken for an action.
 */
import { Controller, Delete, Get, HttpCode, Inject, Param, Post, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  JobService,
  SNAPSHOT_LIST_SCHEMA,
  SNAPSHOT_REQUEST_SCHEMA,
  SNAPSHOT_SCHEMA,
  snapshotView,
  type SnapshotView,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1')
@UseFilters(JobErrorsFilter)
@ApiTags('snapshots')
@ApiKeyAuth()
export class SnapshotsController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Post('jobs/:id/snapshots')
  @Access.project('operator', 'job')
  @HttpCode(202)
  @ApiAnswer(202, SNAPSHOT_SCHEMA, 'the snapshot, requested')
  @ApiErrors(403, 404, 409)
  async take(@Param('id') id: string): Promise<SnapshotView> {
    return snapshotView(await this.jobs.requestSnapshot(id));
  }

  @Get('jobs/:id/snapshots')
  @Access.project('viewer', 'job')
  @ApiAnswer(200, SNAPSHOT_LIST_SCHEMA, "the job's snapshots, newest first")
  @ApiErrors(404)
  async list(@Param('id') id: string): Promise<SnapshotView[]> {
    return (await this.jobs.listSnapshots(id)).map(snapshotView);
  }

  @Get('snapshots/:sid')
  @Access.project('viewer', 'snapshot')
  @ApiAnswer(200, SNAPSHOT_SCHEMA)
  @ApiErrors(404)
  async get(@Param('sid') sid: string): Promise<SnapshotView> {
    return snapshotView(await this.jobs.getSnapshot(sid));
  }

  @Post('snapshots/:sid/verify')
  @Access.project('operator', 'snapshot')
  @HttpCode(202)
  @ApiAnswer(202, SNAPSHOT_REQUEST_SCHEMA, 'the verify is requested')
  @ApiErrors(403, 404, 409)
  async verify(@Param('sid') sid: string): Promise<{ snapshotId: string; requestId: string }> {
    return { snapshotId: sid, requestId: await this.jobs.requestVerify(sid) };
  }

  @Delete('snapshots/:sid')
  @Access.project('owner', 'snapshot')
  @HttpCode(202)
  @ApiAnswer(202, SNAPSHOT_REQUEST_SCHEMA, 'the delete is requested')
  @ApiErrors(403, 404, 409)
  async remove(@Param('sid') sid: string): Promise<{ snapshotId: string; requestId: string }> {
    return { snapshotId: sid, requestId: await this.jobs.requestDelete(sid) };
  }
}
