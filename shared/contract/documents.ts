import * as z from 'zod/mini';
import { jobStates } from '../jobs/records.ts';
import { listLimits, retryRequestSchema } from './job-queries.ts';
import { probeCheckSchema } from './probe.ts';

/**
 * A body's schema as JSON Schema draft-04, the dialect API Gateway models accept. Generated from
 * the same schema the functions validate with, so the gateway and the code cannot disagree.
 */
export function requestModelSchema(schema: z.ZodMiniType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The schemas of the bodies the HTTP API takes; those that depend on the destinations are built with them. */
export interface ApiBodySchemas {
  readonly uploadRequest: z.ZodMiniType;
  readonly destinationTest: z.ZodMiniType;
}

const openApi = (schema: z.ZodMiniType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
const jsonBody = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const answer = (description: string, schema?: object) => ({ description, ...(schema ? { content: { 'application/json': { schema } } } : {}) });

const fieldErrors = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};
const tokenParameter = { name: 'token', in: 'path', required: true, schema: { type: 'string' } };
const invalid = answer('Invalid request: every offending field', fieldErrors);
const noSuchJob = answer('No such job');

/** The OpenAPI 3.0 document of the HTTP API, from the same schemas the ingress validates with. */
export function openApiDocument(schemas: ApiBodySchemas): Record<string, unknown> {
  const accepted = {
    type: 'object',
    properties: { token: { type: 'string' }, upload: { type: 'string', description: 'URL when delivered, else empty' } },
  };
  const testAnswer = {
    type: 'object',
    properties: {
      ok: { type: 'boolean' },
      type: { type: 'string' },
      method: { type: 'string', enum: ['write', 'identity', 'none'], description: 'How permission to write was checked' },
      checks: { type: 'array', items: openApi(probeCheckSchema) },
    },
  };
  return {
    openapi: '3.0.3',
    info: { title: 'Upload Destinations', version: '1' },
    paths: {
      '/v1/uploads': {
        post: {
          summary: 'Deliver a file to one or more destinations',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
          requestBody: jsonBody(openApi(schemas.uploadRequest)),
          responses: { '200': answer('Delivered (async: false)', accepted), '202': answer('Accepted', accepted), '400': invalid },
        },
        get: {
          summary: 'Jobs, newest first, a page at a time',
          parameters: [
            { name: 'state', in: 'query', required: false, description: 'One or more, comma-separated', schema: { type: 'string', example: jobStates.join(',') } },
            { name: 'since', in: 'query', required: false, description: 'An ISO 8601 date-time, or a duration back from now (30m, 1h, 7d)', schema: { type: 'string' } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: listLimits.max, default: listLimits.default } },
            { name: 'cursor', in: 'query', required: false, description: 'next_cursor of the previous page', schema: { type: 'string' } },
          ],
          responses: { '200': answer('A page of jobs and the cursor of the next (null on the last)'), '400': invalid },
        },
      },
      '/v1/uploads/{token}': {
        get: {
          summary: 'Status of a job and of each destination',
          parameters: [tokenParameter],
          responses: { '200': answer('The job'), '404': noSuchJob },
        },
      },
      '/v1/uploads/{token}/retry': {
        post: {
          summary: "Queue a job's failed destinations again",
          parameters: [tokenParameter],
          requestBody: { ...jsonBody(openApi(retryRequestSchema)), required: false },
          responses: { '200': answer('Which destinations were queued again, and why the others were not'), '400': invalid, '404': noSuchJob },
        },
      },
      '/v1/destinations/test': {
        post: {
          summary: 'Check a destination the way a delivery would (credentials, network, permission to write), without delivering',
          requestBody: jsonBody(openApi(schemas.destinationTest)),
          responses: { '200': answer('Every check and its outcome', testAnswer), '400': invalid },
        },
      },
      '/v1/canonical-user': {
        get: {
          summary: "The service's canonical user ID and, with ?bucket=, a bucket policy to paste",
          parameters: [{ name: 'bucket', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { '200': answer('Canonical user ID and policy') },
        },
      },
    },
  };
}
