import { z } from 'zod';

/**
 * The request schema as JSON Schema draft-04, the dialect API Gateway models accept. Generated from
 * the same schema the functions validate with, so the gateway and the code cannot disagree.
 */
export function requestModelSchema(uploadRequestSchema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(uploadRequestSchema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The OpenAPI 3.0 document of the HTTP API. */
export function openApiDocument(uploadRequestSchema: z.ZodType): Record<string, unknown> {
  const request = z.toJSONSchema(uploadRequestSchema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
  const error = {
    type: 'object',
    properties: {
      error: { type: 'string' },
      message: { type: 'string' },
      errors: {
        type: 'array',
        items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  };
  const accepted = {
    type: 'object',
    properties: { token: { type: 'string' }, upload: { type: 'string', description: 'URL when delivered, else empty' } },
  };
  return {
    openapi: '3.0.3',
    info: { title: 'Upload Destinations', version: '1' },
    paths: {
      '/v1/uploads': {
        post: {
          summary: 'Deliver a file to one or more destinations',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: request } } },
          responses: {
            '200': { description: 'Delivered (async: false)', content: { 'application/json': { schema: accepted } } },
            '202': { description: 'Accepted', content: { 'application/json': { schema: accepted } } },
            '400': { description: 'Invalid request: every offending field', content: { 'application/json': { schema: error } } },
          },
        },
      },
      '/v1/uploads/{token}': {
        get: {
          summary: 'Status of a job and of each destination',
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The job' }, '404': { description: 'No such job' } },
        },
      },
      '/v1/canonical-user': {
        get: {
          summary: "The service's canonical user ID and, with ?bucket=, a bucket policy to paste",
          parameters: [{ name: 'bucket', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { '200': { description: 'Canonical user ID and policy' } },
        },
      },
    },
  };
}
