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
import { ApiTags } from '@nestjs/swagger';
import {
  API_KEY_LIST_SCHEMA,
  API_KEY_SCHEMA,
  AccessService,
  CREATE_KEY_REQUEST_SCHEMA,
  CREATED_API_KEY_SCHEMA,
  apiKeyView,
  type ApiKeyView,
  type Principal,
} from '@tidemark/access';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { JobErrorsFilter } from '../jobs/job-errors.filter';
import { Access, Caller } from './route-access';

@Controller('api/v1/keys')
@UseFilters(JobErrorsFilter)
@ApiTags('keys')
@ApiKeyAuth()
export class KeysController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  @Post()
  @Access.signedIn()
  @ApiJsonBody(CREATE_KEY_REQUEST_SCHEMA)
  @ApiAnswer(201, CREATED_API_KEY_SCHEMA, "the key's record and the whole key, shown this once")
  @ApiErrors(403, 404)
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<ApiKeyView & { key: string }> {
    const created = await this.access.createKey(caller, body);
    return { ...apiKeyView(created.key), key: created.token };
  }

  @Get()
  @Access.signedIn()
  @ApiAnswer(200, API_KEY_LIST_SCHEMA, 'the keys the caller manages, never a secret')
  @ApiErrors()
  async list(@Caller() caller: Principal): Promise<{ keys: ApiKeyView[] }> {
    return { keys: (await this.access.listKeys(caller)).map(apiKeyView) };
  }

  @Delete(':id')
  @Access.signedIn()
  @ApiAnswer(200, API_KEY_SCHEMA, "the revoked key's record")
  @ApiErrors(403, 404)
  async revoke(@Caller() caller: Principal, @Param('id') id: string): Promise<ApiKeyView> {
    return apiKeyView(await this.access.revokeKey(caller, id));
  }
}
