import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { destinationDefinition } from '../destinations/registry.ts';
import { bucketPolicy, canonicalUserId } from './bucket-policy.ts';
import { idempotencyKeySchema } from '../../shared/contract/request.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { describeError, ValidationError } from '../../shared/errors.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { withCorrelationId } from '../../shared/lambda/logger.ts';
import { isFinal } from '../../shared/jobs/records.ts';
import { accept, IdempotencyConflictError } from './accept.ts';
import type { IngressDependencies } from './dependencies.ts';
import { listedErrors } from './listed-errors.ts';
import { listJobs } from './list-jobs.ts';
import { bodyText, requestIn, UnreadableBodyError } from './request-body.ts';
import { retryJob } from './retry-job.ts';
import { testDestination } from './test-destination.ts';


/** What the doors' tokens look like: `ud_…`, `s3-…`, `inbox-<message id>`. */
const tokenPattern = /^[A-Za-z0-9_-]{1,128}$/;

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function problem(statusCode: number, error: string, message: string, extra: Record<string, unknown> = {}): APIGatewayProxyResult {
  return json(statusCode, { error, message, ...extra });
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1] ?? undefined;
}

/**
 * Waits (bounded) for an `async: false` job to finish. Waiting holds an ingress instance, so only so
 * many requests may wait at once; beyond that a request gets its token at once, to poll.
 */
async function waitForDelivery(token: string, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const leave = await dependencies.jobs.enterSyncWait(dependencies.maxSyncWaiters, dependencies.syncWaitSeconds);
  if (!leave) return json(202, { token, upload: '', state: 'queued', message: 'too many requests are waiting for their delivery: poll GET /v1/uploads/{token}' });
  try {
    const deadline = Date.now() + dependencies.syncWaitSeconds * 1000;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const job = await dependencies.jobs.get(token);
      if (job && job.destinations.every((destination) => isFinal(destination.state))) {
        const view = jobView(job);
        return json(view.state === 'succeeded' ? 200 : 502, view);
      }
      if (Date.now() + delay > deadline) return json(202, { token, upload: '', state: 'in_progress' });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  } finally {
    await leave().catch((error: unknown) => dependencies.log.warn('could not give back a waiting place', { token, reason: describeError(error) }));
  }
}

function rawBody(event: APIGatewayProxyEvent): string {
  return event.isBase64Encoded && event.body ? bodyText(Buffer.from(event.body, 'base64'), 'request body') : (event.body ?? '');
}

async function postUpload(event: APIGatewayProxyEvent, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const body = requestIn(rawBody(event), 'request body');
  const idempotencyKey = header(event, 'idempotency-key');
  if (idempotencyKey !== undefined && !idempotencyKeySchema.safeParse(idempotencyKey).success) {
    return problem(400, 'invalid_request', 'the request has invalid fields', {
      errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters (a header, or idempotency_key in the body)' }],
    });
  }
  const accepted = await accept(body, { origin: 'api', ...(idempotencyKey ? { idempotencyKey } : {}) }, dependencies);
  withCorrelationId(dependencies.log, accepted.token).info('job accepted', { token: accepted.token, created: accepted.created });
  if (accepted.presignedUpload) {
    const { url, method, headers, expiresAt } = accepted.presignedUpload;
    return json(202, { token: accepted.token, upload: '', upload_url: url, upload_method: method, upload_headers: headers, upload_expires_at: expiresAt });
  }
  if (accepted.request.upload.async) return json(202, { token: accepted.token, upload: '' });
  return waitForDelivery(accepted.token, dependencies);
}

async function getUpload(token: string, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const job = await dependencies.jobs.get(token);
  return job ? json(200, jobView(job)) : problem(404, 'not_found', `no job with token '${token}'`);
}

/**
 * The request in a body, or a request of no fields when there is none: its schema then names the
 * fields it needs (a retry needs none; a destination test, `destination`).
 */
function optionalBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  const raw = rawBody(event);
  return raw.trim() === '' ? {} : requestIn(raw, 'request body');
}

async function postRetry(token: string, event: APIGatewayProxyEvent, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const answer = await retryJob(token, optionalBody(event), dependencies);
  if (answer.kind === 'not_found') return problem(404, 'not_found', `no job with token '${token}'`);
  if (answer.retried.length === 0) {
    return problem(409, 'nothing_to_retry', 'no destination of this job can be retried', { token: answer.token, retried: [], skipped: answer.skipped });
  }
  return json(202, { token: answer.token, retried: answer.retried, skipped: answer.skipped });
}

/** The query of `GET /v1/canonical-user`: a bucket named as an s3 destination names it, since the policy is for one. */
const canonicalUserQuerySchema = z.object({ bucket: z.optional(destinationDefinition('s3').schema.shape.bucket as z.ZodMiniType<string>) });

async function getCanonicalUser(event: APIGatewayProxyEvent, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const { bucket } = parseOrThrow(canonicalUserQuerySchema, event.queryStringParameters ?? {});
  const id = await canonicalUserId(dependencies.staging);
  return json(200, { canonical_user_id: id, ...(bucket ? { bucket_policy: bucketPolicy(bucket, id) } : {}) });
}

/** The HTTP API: routes, JSON answers, and every failure as a JSON problem (never a stack trace). */
export async function handleHttp(event: APIGatewayProxyEvent, dependencies: IngressDependencies): Promise<APIGatewayProxyResult> {
  const path = event.path.replace(/\/+$/, '');
  try {
    if (path === '/v1/uploads') {
      if (event.httpMethod === 'POST') return await postUpload(event, dependencies);
      return event.httpMethod === 'GET' ? json(200, await listJobs(event, dependencies)) : problem(405, 'method_not_allowed', 'use GET or POST');
    }
    const retried = /^\/v1\/uploads\/([^/]+)\/retry$/.exec(path)?.[1];
    if (retried !== undefined) {
      if (event.httpMethod !== 'POST') return problem(405, 'method_not_allowed', 'use POST');
      return tokenPattern.test(retried) ? await postRetry(retried, event, dependencies) : problem(404, 'not_found', 'no job with that token');
    }
    const token = /^\/v1\/uploads\/([^/]+)$/.exec(path)?.[1];
    if (token !== undefined) {
      if (event.httpMethod !== 'GET') return problem(405, 'method_not_allowed', 'use GET');
      // Tokens are plain ASCII; anything else (a broken escape, a `#`) names no job.
      return tokenPattern.test(token) ? await getUpload(token, dependencies) : problem(404, 'not_found', 'no job with that token');
    }
    if (path === '/v1/destinations/test') {
      return event.httpMethod === 'POST' ? json(200, await testDestination(optionalBody(event), dependencies)) : problem(405, 'method_not_allowed', 'use POST');
    }
    if (path === '/v1/canonical-user') {
      return event.httpMethod === 'GET' ? await getCanonicalUser(event, dependencies) : problem(405, 'method_not_allowed', 'use GET');
    }
    return problem(404, 'not_found', `no route for ${event.httpMethod} ${event.path}`);
  } catch (error) {
    if (error instanceof UnreadableBodyError) return problem(error.status, error.code, error.detail, { errors: error.fields });
    if (error instanceof ValidationError) {
      return problem(400, 'invalid_request', 'the request has invalid fields', { errors: listedErrors(error.fields) });
    }
    if (error instanceof IdempotencyConflictError) return problem(409, 'idempotency_conflict', error.message);
    dependencies.log.error('request failed', { path, error: describeError(error) });
    return problem(503, 'unavailable', 'the request could not be handled; retry it (with the same Idempotency-Key)');
  }
}
