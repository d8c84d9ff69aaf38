/**
 * `GET /api/v1/openapi.json`: job-state's OpenAPI 3.1 document, generated from the controllers at start-up
 * (`openapi-document.ts`). Public like the probes: the document describes the API and holds no secret nor anything
 * of any project, and a client generator needs it before it has a key.
 */
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { PublicRoute } from '@tidemark/service-shell';
import { ACCESS_EXTENSION } from '../access/route-access';
import { OpenApiDocument } from './openapi-document';

@Controller('api/v1')
export class OpenApiController {
  constructor(@Inject(OpenApiDocument) private readonly doc: OpenApiDocument) {}

  @Get('openapi.json')
  @PublicRoute()
  @ApiExtension(ACCESS_EXTENSION, { kind: 'public' })
  @ApiOperation({ summary: 'this document', security: [] })
  @ApiResponse({ status: 200, description: 'the OpenAPI 3.1 document', schema: { type: 'object' } })
  document(): object {
    return this.doc.get();
  }
}
