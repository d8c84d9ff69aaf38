/**
 * API keys (docs/api.md, "Projects and API keys"). The admin key manages every key; an API key manages the keys
 * whose every grant is on a project it owns (anything else is 404 to it).
 * - `POST /api/v1/keys` `{ grants: { <project>: viewer|operator|owner } }`: 201 with the key's record and `key`,
 *   the whole key, shown this once and never again; 404 for a project the caller cannot see, 403 for one it does
 *   not own;
 * - `GET /api/v1/keys`: `{ keys }` (id, prefix, grants, created, last used, revoked), never a secret;
 * - `DELETE /api/v1/keys/:id`: revokes the key at once; 200 with its record.
 */
import { Body, Controller, Delete, Get, Inject, Param, Post, UseFilters } from '@nestjs/common';
import { AccessService, apiKeyView, type ApiKeyView, type Principal } from '@tidemark/access';
import { JobErrorsFilter } from '../jobs/job-errors.filter';
import { Access, Caller } from './route-access';

@Controller('api/v1/keys')
@UseFilters(JobErrorsFilter)
export class KeysController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  @Post()
  @Access.signedIn()
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<ApiKeyView & { key: string }> {
    const created = await this.access.createKey(caller, body);
    return { ...apiKeyView(created.key), key: created.token };
  }

  @Get()
  @Access.signedIn()
  async list(@Caller() caller: Principal): Promise<{ keys: ApiKeyView[] }> {
    return { keys: (await this.access.listKeys(caller)).map(apiKeyView) };
  }

  @Delete(':id')
  @Access.signedIn()
  async revoke(@Caller() caller: Principal, @Param('id') id: string): Promise<ApiKeyView> {
    return apiKeyView(await this.access.revokeKey(caller, id));
  }
}
