/**
 * Projects (docs/api.md, "Projects and API keys"):
 * - `POST /api/v1/projects` `{ name }`: 201 with the project; the admin key only (403), 409 when it exists;
 * - `GET /api/v1/projects`: `{ projects }`, those the caller holds a grant on (all for the admin key);
 * - `GET /api/v1/projects/:name`: the project, 404 without a grant on it;
 * - `DELETE /api/v1/projects/:name`: the admin key only; 409 while a job is in it; drops every key's grant on it.
 */
import { Body, Controller, Delete, Get, Inject, Param, Post, UseFilters } from '@nestjs/common';
import { AccessService, projectView, type Principal, type ProjectView } from '@tidemark/access';
import { JobErrorsFilter } from '../jobs/job-errors.filter';
import { Access, Caller } from './route-access';

@Controller('api/v1/projects')
@UseFilters(JobErrorsFilter)
export class ProjectsController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  @Post()
  @Access.admin()
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<ProjectView> {
    return projectView(await this.access.createProject(caller, body));
  }

  @Get()
  @Access.signedIn()
  async list(@Caller() caller: Principal): Promise<{ projects: ProjectView[] }> {
    return { projects: (await this.access.listProjects(caller)).map(projectView) };
  }

  @Get(':name')
  @Access.project('viewer', 'project')
  async get(@Caller() caller: Principal, @Param('name') name: string): Promise<ProjectView> {
    return projectView(await this.access.getProject(caller, name));
  }

  @Delete(':name')
  @Access.project('admin', 'project')
  async remove(@Caller() caller: Principal, @Param('name') name: string): Promise<ProjectView> {
    return projectView(await this.access.deleteProject(caller, name));
  }
}
