/**
 * Projects (docs/api.md, "Projects and API keys"):
 * - `POST /api/v1/projects` `{ name }`: 201 with the project; the admin key only (403), 409 when it exists;
 * - `GET /api/v1/projects`: `{ projects }`, those the caller holds a grant on (all for the admin key);
 * - `GET /api/v1/projects/:name`: the project, 404 without a grant on it;
 * - `DELETE /api/v1/projects/:name`: the admin key only; 409 while a job is in it; drops every key's grant on it.
 */
import { Body, Controller, Delete, Get, Inject, Param, Post, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AccessService,
  CREATE_PROJECT_REQUEST_SCHEMA,
  PROJECT_LIST_SCHEMA,
  PROJECT_SCHEMA,
  projectView,
  type Principal,
  type ProjectView,
} from '@tidemark/access';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { JobErrorsFilter } from '../jobs/job-errors.filter';
import { Access, Caller } from './route-access';

@Controller('api/v1/projects')
@UseFilters(JobErrorsFilter)
@ApiTags('projects')
@ApiKeyAuth()
export class ProjectsController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  @Post()
  @Access.admin()
  @ApiJsonBody(CREATE_PROJECT_REQUEST_SCHEMA)
  @ApiAnswer(201, PROJECT_SCHEMA, 'the new project (the admin key only)')
  @ApiErrors(403, 409)
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<ProjectView> {
    return projectView(await this.access.createProject(caller, body));
  }

  @Get()
  @Access.signedIn()
  @ApiAnswer(200, PROJECT_LIST_SCHEMA, 'the projects the key holds a grant on')
  @ApiErrors()
  async list(@Caller() caller: Principal): Promise<{ projects: ProjectView[] }> {
    return { projects: (await this.access.listProjects(caller)).map(projectView) };
  }

  @Get(':name')
  @Access.project('viewer', 'project')
  @ApiAnswer(200, PROJECT_SCHEMA)
  @ApiErrors(404)
  async get(@Caller() caller: Principal, @Param('name') name: string): Promise<ProjectView> {
    return projectView(await this.access.getProject(caller, name));
  }

  @Delete(':name')
  @Access.project('admin', 'project')
  @ApiAnswer(200, PROJECT_SCHEMA, 'the deleted project (the admin key only)')
  @ApiErrors(403, 404, 409)
  async remove(@Caller() caller: Principal, @Param('name') name: string): Promise<ProjectView> {
    return projectView(await this.access.deleteProject(caller, name));
  }
}
