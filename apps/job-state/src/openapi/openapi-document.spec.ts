import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenAPIObject } from '@nestjs/swagger';
import { withPathParameters } from './openapi-document';

describe('withPathParameters', () => {
  it('declares every {name} of a path that its operation does not, and keeps those it does', () => {
    const doc = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/jobs/{id}/{action}': {
          post: {
            parameters: [{ name: 'action', in: 'path', required: true, schema: { enum: ['start'] } }],
            responses: {},
          },
        },
        '/jobs': { get: { responses: {} } },
      },
    } as unknown as OpenAPIObject;
    const out = withPathParameters(doc);
    assert.deepEqual(out.paths['/jobs/{id}/{action}']!.post!.parameters, [
      { name: 'action', in: 'path', required: true, schema: { enum: ['start'] } },
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    assert.deepEqual(out.paths['/jobs']!.get!.parameters, []);
  });
});
