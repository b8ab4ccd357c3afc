import { PurgeQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { destinationTypes } from '../../functions/destinations/registry.ts';
import type { IngressDependencies } from '../../functions/ingress/dependencies.ts';
import { handleHttp } from '../../functions/ingress/http-api.ts';
import { handleInboxMessage, inboxToken } from '../../functions/ingress/inbox-door.ts';
import { JobListing } from '../../shared/jobs/job-listing.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { startIngressHarness, type IngressHarness } from '../support/ingress-harness.ts';

let sqs: SQSClient;
let queueUrl: string;
let jobs: JobStore;
let dependencies: IngressDependencies;
let harness: IngressHarness;

beforeAll(async () => {
  // One queue for every type: a refused request queues nothing, whatever its destination.
  harness = await startIngressHarness(destinationTypes, { destinationFunctions: {} });
  ({ sqs, queueUrl, jobs, dependencies } = harness);
});

afterAll(() => harness.close());

beforeEach(async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
});

async function queuedCount(): Promise<number> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (Messages ?? []).length;
}

function event(method: string, path: string, body: string | null, query: Record<string, string> | null = null): APIGatewayProxyEvent {
  return { httpMethod: method, path, headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false, queryStringParameters: query } as unknown as APIGatewayProxyEvent;
}

async function call(method: string, path: string, body: string | null, query?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const answer = await handleHttp(event(method, path, body, query), dependencies);
  return { status: answer.statusCode, body: JSON.parse(answer.body) as Record<string, any> };
}

const destination = { type: 's3', bucket: 'my-videos', filename: 'renders/a.mp4', credentials: 'team-s3' };
const source = { url: 'https://renders.example.com/a.mp4' };

/** The request as JSON text with `marker` (a JSON string) replaced by `json`: for what JSON.stringify cannot write. */
function withRaw(request: Record<string, unknown>, marker: string, json: string): string {
  return JSON.stringify(request).replace(JSON.stringify(marker), json);
}

describe('POST /v1/uploads: a refusal naming the field, nothing queued, for what would be taken and then fail or change', () => {
  it.each([
    ['a line break', 'video/mp4\r\nX-Injected: 1'],
    ['a NUL', 'video/mp4\u0000'],
    ['a character past ASCII', 'vidéo/mp4'],
  ])('a presigned content_type with %s, which the caller could not send as the upload header the answer tells it to', async (_case, contentType) => {
    const answer = await call('POST', '/v1/uploads', JSON.stringify({ source: { presigned: { filename: 'a.mp4', content_type: contentType } }, upload: { destination } }));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: 'source.presigned.content_type' })]);
  });

  // The URL parser drops these; the job kept the URL without them, and signed callbacks with it, so
  // a receiver checking the signature against the callback_url it gave could never verify one.
  it.each([
    ['callback_url', 'a trailing line break', { source, callback_url: 'https://hooks.example.com/done\n' }],
    ['callback_url', 'a leading space', { source, callback_url: ' https://hooks.example.com/done' }],
    ['callback_url', 'a tab inside', { source, callback_url: 'https://hooks.example.com/do\tne' }],
    ['source.url', 'a carriage return inside', { source: { url: 'https://renders.example.com/a\r.mp4' } }],
    ['source.url', 'a NUL', { source: { url: 'https://renders.example.com/a\u0000.mp4' } }],
  ])('%s with %s, which the URL parser would silently change', async (field, _case, request) => {
    const answer = await call('POST', '/v1/uploads', JSON.stringify({ upload: { destination }, ...request }));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: field })]);
    expect(await queuedCount()).toBe(0);
  });

  // JSON.parse keeps a `__proto__` key as a field; the schemas' maps dropped it without a word.
  it.each([
    ['metadata entry', { ...destination, metadata: { a: '1', __marker__: 'x' } }, '"__proto__":"x"', 'upload.destination.metadata.__proto__'],
    ['header', { ...destination, headers: { __marker__: 'x' } }, '"__proto__":{"Content-Type":"text/html"}', 'upload.destination.headers.__proto__'],
  ])('a %s named __proto__', async (_case, withMarker, raw, path) => {
    const body = JSON.stringify({ source, upload: { destination: withMarker } }).replace(/"__marker__":(\{[^}]*\}|"[^"]*")/, raw);

    const answer = await call('POST', '/v1/uploads', body);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path, message: expect.any(String) }]);
    expect(await queuedCount()).toBe(0);
  });

  // No destination can be sent such a text: encoded as UTF-8 it becomes U+FFFD, a password that fails at delivery.
  it.each([
    ['a value', withRaw({ source, upload: { destination: { type: 'sftp', host: 'sftp.example.com', user: 'u', password: 'marker', filename: '/a.mp4' } } }, 'marker', '"pa\\ud800ss"'), 'upload.destination.password'],
    ['a field name', withRaw({ source, upload: { destination: { ...destination, marker: 1 } } }, 'marker', '"\\udc00"'), 'upload.destination'],
  ])('%s holding an unpaired surrogate', async (_case, body, path) => {
    const answer = await call('POST', '/v1/uploads', body);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path, message: expect.stringContaining('Unicode') }]);
    expect(await queuedCount()).toBe(0);
  });

  it('a text deep in a body nesting 20,000 levels, named in one error (the walk neither recurses nor repeats the path per field)', async () => {
    const depth = 20_000;
    const nested = `${'['.repeat(depth)}"\\ud800","\\ud800"${']'.repeat(depth)}`;

    const answer = await call('POST', '/v1/uploads', withRaw({ source, upload: { destination: { ...destination, metadata: { a: 'marker' } } } }, 'marker', nested));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: `upload.destination.metadata.a${'[0]'.repeat(depth - 1)}[1]`, message: expect.stringContaining('Unicode') }]);
  });

  it('a body sent base64-encoded that is not UTF-8, whose bytes were read as U+FFFD', async () => {
    const latin1 = Buffer.from(JSON.stringify({ source, upload: { destination: { ...destination, filename: 'renders/café.mp4' } } }), 'latin1');
    const answer = await handleHttp({ ...event('POST', '/v1/uploads', latin1.toString('base64')), isBase64Encoded: true }, dependencies);

    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_json' });
    expect(await queuedCount()).toBe(0);
  });

  it('a metadata number too large to keep its digits, which was delivered as another number', async () => {
    const body = withRaw({ source, upload: { destination: { ...destination, metadata: { build: 'marker' } } } }, 'marker', '9007199254740993');

    const answer = await call('POST', '/v1/uploads', body);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: 'upload.destination.metadata.build', message: expect.stringContaining('string') })]);
    expect(await queuedCount()).toBe(0);
  });

  it.each([
    ['null', 'null'],
    ['an object', '{}'],
    ['a number too large for JSON to hold (1e400)', '1e400'],
  ])('a metadata value that is %s, saying what it must be rather than "Invalid input"', async (_case, raw) => {
    const answer = await call('POST', '/v1/uploads', withRaw({ source, upload: { destination: { ...destination, metadata: { a: 'marker' } } } }, 'marker', raw));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'upload.destination.metadata.a', message: 'must be a string, a number or a boolean' }]);
  });

  it('a number field given 1e400, saying it must be finite rather than "must be a number"', async () => {
    const ftp = { type: 'ftp', host: 'ftp.example.com', filename: '/videos/a.mp4', user: 'u', password: 'p', port: 'marker' };

    const answer = await call('POST', '/v1/uploads', withRaw({ source, upload: { destination: ftp } }, 'marker', '1e400'));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'upload.destination.port', message: 'must be a finite number' }]);
  });
});

describe('The other routes: a refusal naming the field', () => {
  it('POST /v1/destinations/test without a body names the destination it needs, not an unnamed "is required"', async () => {
    const answer = await call('POST', '/v1/destinations/test', null);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'destination', message: 'is required' }]);
  });

  it('POST /v1/destinations/test with a map entry named __proto__', async () => {
    const body = JSON.stringify({ destination: { ...destination, metadata: { __marker__: 'x' } } }).replace('"__marker__":"x"', '"__proto__":"x"');

    const answer = await call('POST', '/v1/destinations/test', body);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'destination.metadata.__proto__', message: expect.any(String) }]);
  });

  it('POST /v1/uploads/{token}/retry naming one destination twice, which answered it retried twice', async () => {
    const accepted = await call('POST', '/v1/uploads', JSON.stringify({ source, upload: { destination } }));
    const { token } = accepted.body as { token: string };
    const claim = await jobs.claim(token, 0, 60);
    if (claim.kind !== 'claimed') throw new Error('could not claim the destination');
    await jobs.fail(token, 0, claim.attemptId, { code: 'Timeout', message: 'timed out', retryable: true }, true);

    const answer = await call('POST', `/v1/uploads/${token}/retry`, JSON.stringify({ destinations: [0, 0] }));

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: 'destinations' })]);
  });

  it.each([
    ['limit', { limit: '0x10' }],
    ['limit', { limit: '1e1' }],
    ['limit', { limit: ' 5' }],
    ['limit', { limit: '5.0' }],
    ['cursor', { cursor: Buffer.from('9999-12-31T23:59:59.999Z#ud_AzxUFO6LJ0nXgjaQAZ1q').toString('base64url') }],
    ['cursor', { since: '1h', cursor: Buffer.from(`${new Date(Date.now() + 3_600_000).toISOString()}#ud_AzxUFO6LJ0nXgjaQAZ1q`).toString('base64url') }],
  ])('GET /v1/uploads with a %s no caller means (%j), answered at once', async (field, query) => {
    const listing = { ...dependencies, listing: new JobListing(harness.table), retentionDays: 30 };

    const answer = await handleHttp(event('GET', '/v1/uploads', null, query), listing);

    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request', errors: [{ path: field, message: expect.any(String) }] });
  }, 10_000);

  it.each(['*', 'my-bucket/*", "x', 'x'.repeat(300)])('GET /v1/canonical-user?bucket=%s, no bucket name, gets no policy', async (bucket) => {
    const answer = await call('GET', '/v1/canonical-user', null, { bucket });

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: 'bucket' })]);
  });
});

describe('The inbox reads a message as the API reads a body', () => {
  it('rejects a message with a metadata entry named __proto__, naming it, queueing nothing', async () => {
    const messageId = crypto.randomUUID();
    const body = JSON.stringify({ source, upload: { destination: { ...destination, metadata: { __marker__: 'x' } } } }).replace('"__marker__"', '"__proto__"');

    expect(await handleInboxMessage({ messageId, body } as SQSRecord, dependencies)).toBe('rejected');

    const job = await jobs.get(inboxToken(messageId));
    expect(jobView(job!)).toMatchObject({ state: 'rejected', errors: [{ path: 'upload.destination.metadata.__proto__', message: expect.any(String) }] });
    expect(await queuedCount()).toBe(0);
  });
});
