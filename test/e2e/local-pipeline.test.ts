import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createHmac } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAccountId } from '../../infra/local/lambda-context.ts';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { readBody, startTestServer, type TestServer } from '../support/http-servers.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
let pipeline: LocalPipeline;
let state: string;
let s3: S3Client;
let sources: TestServer;
let sourceRequests = 0;
const sourceBytes = patternBytes(3 * MiB + 17, 3);

interface Answer {
  status: number;
  body: Record<string, any>;
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function job(token: string): Promise<Record<string, any>> {
  return (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as Record<string, any>;
}

async function finished(token: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const view = await job(token);
    return ['succeeded', 'failed', 'partially_failed'].includes(view.state) ? view : undefined;
  }, 30_000, `job ${token} to finish`);
}

async function storedBody(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: pipeline.deliveryBucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

function s3Destination(fields: Record<string, unknown>) {
  return { type: 's3', bucket: pipeline.deliveryBucket, endpoint: pipeline.s3.endpoint, credentials: 'local-s3', ...fields };
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-pipeline-'));
  // One request may wait for its delivery at a time, so the bound on waiting can be seen.
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, stagingSourcePrefixes: ['renders/'], maxSyncWaiters: 1 });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: 'renders/final cut.mp4', Body: sourceBytes }));
  sources = await startTestServer((request, response) => {
    sourceRequests += 1;
    if (request.url === '/flaky.bin' && sourceRequests % 2 === 1) {
      response.writeHead(503).end('busy');
      return;
    }
    if (request.url === '/slow.bin') {
      setTimeout(() => response.writeHead(200, { 'content-length': String(sourceBytes.length) }).end(sourceBytes), 3000);
      return;
    }
    if (request.url === '/missing.bin') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(sourceBytes.length) }).end(sourceBytes);
  });
});

afterAll(async () => {
  s3.destroy();
  await sources.close();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
});

describe('the local pipeline, from POST to object', () => {
  it('delivers a staging-bucket object asynchronously and reports it', async () => {
    // Act
    const accepted = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/final cut.mp4' },
      upload: { extension: 'mp4', destination: s3Destination({ filename: 'async/', contenttype: 'video/mp4' }) },
    });

    // Assess
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ token: expect.stringMatching(/^ud_/), upload: '' });
    const view = await finished(accepted.body.token);
    expect(view).toMatchObject({
      state: 'succeeded',
      upload: `${pipeline.s3.endpoint}/deliveries/async/final%20cut.mp4`,
      destinations: [{ state: 'succeeded', bytes: sourceBytes.length, attempts: 1, error: null }],
    });
    expect(sha256(await storedBody('async/final cut.mp4'))).toBe(sha256(sourceBytes));
  });

  it("tells the CPU time each embedded server's thread has used, which grows as a delivery makes them work", async () => {
    // Prepare
    const before = await pipeline.serverCpuMs();

    // Act
    const accepted = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/final cut.mp4' },
      upload: { destination: s3Destination({ filename: 'cpu/final cut.mp4' }) },
    });
    await finished(accepted.body.token);
    const after = await pipeline.serverCpuMs();

    // Assess: the delivery wrote to the table, went through a queue and read and wrote objects.
    for (const server of ['dynamodb', 'sqs', 's3'] as const) {
      expect(before[server], server).toBeGreaterThan(0);
      expect(after[server], server).toBeGreaterThan(before[server]);
    }
  });

  it('answers async: false with the final URL', async () => {
    const answer = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: { async: false, destination: s3Destination({ filename: 'sync/video.mp4' }) },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.upload).toBe(`${pipeline.s3.endpoint}/deliveries/sync/video.mp4`);
    expect(sha256(await storedBody('sync/video.mp4'))).toBe(sha256(sourceBytes));
  });

  it('delivers one file to several destinations', async () => {
    const answer = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: {
        async: false,
        destinations: [s3Destination({ filename: 'many/a.mp4' }), s3Destination({ filename: 'many/b.mp4', acl: 'private' })],
      },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.destinations.map((destination: { state: string }) => destination.state)).toEqual(['succeeded', 'succeeded']);
    expect(sha256(await storedBody('many/b.mp4'))).toBe(sha256(sourceBytes));
  });

  it('answers a bad request with 400 naming every field, and queues nothing', async () => {
    const before = pipeline.s3.requests.length;

    const answer = await post({
      source: { url: 'not a url' },
      upload: { async: 'no', destination: { type: 's3', bucket: 'Bad_Bucket!', acl: 'everyone', metadata: { 'bad key': 'x' } } },
      colour: 'blue',
    });

    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(
      [
        'colour',
        'source.url',
        'upload.async',
        'upload.destination.acl',
        'upload.destination.aws_access_key_id',
        'upload.destination.bucket',
        'upload.destination.filename',
        'upload.destination.metadata.bad key',
      ].sort(),
    );
    expect(pipeline.s3.requests.length).toBe(before);
  });

  it.each([
    ['a staging key outside the allowed prefixes', () => ({ source: { bucket: resourceNames.stagingBucket, key: 'drop/other-team/clip.mp4' } }), 'source.key'],
    ['a manifest as the source', () => ({ source: { bucket: resourceNames.stagingBucket, key: 'renders/clip.mp4.upload.json' } }), 'source.key'],
    ['a staging key that climbs out', () => ({ source: { bucket: resourceNames.stagingBucket, key: 'renders/../drop/clip.mp4' } }), 'source.key'],
    [
      'the staging bucket as the destination',
      () => ({ upload: { destination: s3Destination({ bucket: resourceNames.stagingBucket, filename: 'drop/evil.mp4' }) } }),
      'upload.destination.bucket',
    ],
  ])('refuses %s with a 400 naming the field, uploading nothing', async (_case, change, path) => {
    const before = pipeline.s3.requests.length;

    const answer = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/final cut.mp4' },
      upload: { destination: s3Destination({ filename: 'never.mp4' }) },
      ...change(),
    });

    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual([path]);
    expect(pipeline.s3.requests.length).toBe(before);
  });

  it("refuses a role of the runtime's own account with a 400 naming role_arn, as the deployed service refuses its account's", async () => {
    const ownRole = { filename: 'never.mp4', endpoint: undefined, credentials: undefined, role_arn: `arn:aws:iam::${localAccountId}:role/delivery`, external_id: 'customer-42' };

    const answer = await post({ source: { bucket: resourceNames.stagingBucket, key: 'renders/final cut.mp4' }, upload: { destination: s3Destination(ownRole) } });

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'upload.destination.role_arn', message: expect.stringContaining(`the service's own (${localAccountId})`) }]);
  });

  it('answers malformed JSON with 400 and unknown routes with 404', async () => {
    expect((await post('{"source":')).status).toBe(400);
    expect((await fetch(`${pipeline.apiUrl}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${pipeline.apiUrl}/v1/uploads/ud_unknown`)).status).toBe(404);
  });

  it('refuses posts that are not JSON (a cross-site form) and requests to another host name (DNS rebinding)', async () => {
    const form = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    const rebound = await new Promise<number>((resolve, reject) => {
      const address = new URL(pipeline.apiUrl);
      httpGet({ host: address.hostname, port: address.port, path: '/v1/uploads/ud_unknown', headers: { host: 'attacker.example:3000' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject);
    });

    expect(form.status).toBe(415);
    expect(rebound).toBe(403);
  });

  it('answers an async: false request with its token at once while as many requests wait as may', async () => {
    const waiting = post({ source: { url: `${sources.url}/slow.bin` }, upload: { async: false, destination: s3Destination({ filename: 'waited.mp4' }) } });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const crowded = await post({ source: { url: `${sources.url}/video.mp4` }, upload: { async: false, destination: s3Destination({ filename: 'not-waited.mp4' }) } });

    expect(crowded.status).toBe(202);
    expect(crowded.body).toMatchObject({ token: expect.stringMatching(/^ud_/), state: 'queued', message: expect.stringContaining('poll') });
    expect((await waiting).status).toBe(200);
    expect((await finished(crowded.body.token)).state).toBe('succeeded');
  });

  it('returns the same job for a repeated Idempotency-Key and uploads once', async () => {
    const request = {
      source: { url: `${sources.url}/video.mp4` },
      upload: { async: false, destination: s3Destination({ filename: 'idempotent.mp4' }) },
    };

    const first = await post(request, { 'idempotency-key': 'render-42' });
    const second = await post(request, { 'idempotency-key': 'render-42' });
    const conflicting = await post({ ...request, upload: { ...request.upload, destination: s3Destination({ filename: 'other.mp4' }) } }, { 'idempotency-key': 'render-42' });

    expect(second.body.token).toBe(first.body.token);
    expect(conflicting.status).toBe(409);
    const puts = pipeline.s3.requests.filter((entry) => entry.method === 'PUT' && entry.path === '/deliveries/idempotent.mp4');
    expect(puts).toHaveLength(1);
  });

  it('fails a destination permanently at once, with the reason', async () => {
    const answer = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: { async: false, destination: s3Destination({ bucket: 'no-such-bucket', filename: 'x.mp4' }) },
    });

    expect(answer.status).toBe(502);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'NoSuchBucket' } });
    expect(answer.body.destinations[0].error.message).toContain('the bucket does not exist');
  });

  it('fails a missing source permanently', async () => {
    const accepted = await post({
      source: { url: `${sources.url}/missing.bin` },
      upload: { destination: s3Destination({ filename: 'never.bin' }) },
    });

    const view = await finished(accepted.body.token);
    expect(view.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'HTTP404' } });
  });

  it('retries a transient failure and then delivers', async () => {
    sourceRequests = 0;

    const accepted = await post({
      source: { url: `${sources.url}/flaky.bin` },
      upload: { destination: s3Destination({ filename: 'flaky.bin' }) },
    });

    const view = await finished(accepted.body.token);
    expect(view.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(sha256(await storedBody('flaky.bin'))).toBe(sha256(sourceBytes));
  });

  it('dead-letters a delivery that keeps failing transiently, after the last attempt', async () => {
    const closed = await startTestServer(() => undefined);
    const unreachable = closed.url;
    await closed.close();

    const accepted = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: { destination: s3Destination({ filename: 'unreachable.bin', endpoint: unreachable }) },
    });

    const view = await finished(accepted.body.token);
    expect(view.destinations[0]).toMatchObject({ state: 'failed', attempts: 2, error: { code: 'ECONNREFUSED' } });
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const deadLetter = await waitFor(async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: pipeline.deadLetterQueueUrls.s3, WaitTimeSeconds: 1 }));
      return Messages?.find((message) => message.Body?.includes(accepted.body.token));
    }, 20_000, 'the dead-letter queue');
    sqs.destroy();
    expect(JSON.parse(deadLetter.Body ?? '{}')).toMatchObject({ token: accepted.body.token, index: 0, type: 's3' });
  });

  it('sends a signed callback when the job finishes', async () => {
    const callbacks: { body: string; signature: string; event: string }[] = [];
    const receiver = await startTestServer((request, response) => {
      void readBody(request).then((body) => {
        callbacks.push({
          body: body.toString(),
          signature: String(request.headers['upload-destinations-signature']),
          event: String(request.headers['upload-destinations-event']),
        });
        response.writeHead(204).end();
      });
    });

    const accepted = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: { destination: s3Destination({ filename: 'called-back.mp4' }) },
      callback_url: `${receiver.url}/hook`,
    });

    const callback = await waitFor(async () => callbacks[0], 20_000, 'the callback');
    await receiver.close();
    const key = (JSON.parse(await readFile(pipeline.secretsFile, 'utf8')) as Record<string, { key: string }>)['callback-signing-key']!.key;
    const [, timestamp, digest] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(callback.signature) ?? [];
    // Signed for this receiver's URL: the same callback replayed to another URL fails to verify.
    expect(digest).toBe(createHmac('sha256', key).update(`${timestamp}.${callback.event}.${receiver.url}/hook.${callback.body}`).digest('hex'));
    expect(digest).not.toBe(createHmac('sha256', key).update(`${timestamp}.${callback.event}.https://other.example/hook.${callback.body}`).digest('hex'));
    expect(callback.event).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(callback.body)).toMatchObject({ token: accepted.body.token, state: 'succeeded' });
    expect(callbacks).toHaveLength(1);
    // The outcome is recorded after the callback is answered.
    const recorded = await waitFor(async () => (await job(accepted.body.token)).callback, 10_000, 'the recorded callback');
    expect(recorded).toMatchObject({ state: 'sent', attempts: 1, status: 204 });
  });

  it('never writes an inline secret to the job table or the answer', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const answer = await post({
      source: { url: `${sources.url}/video.mp4` },
      upload: {
        async: false,
        destination: s3Destination({ filename: 'inline.mp4', credentials: undefined, aws_access_key_id: pipeline.s3.accessKeyId, aws_secret_access_key: secret }),
      },
    });

    // s3rver checks the key ID only, so the delivery goes through with this secret.
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body)).not.toContain(secret);
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: pipeline.dynamodbEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const { Items } = await dynamo.send(new ScanCommand({ TableName: resourceNames.table }));
    dynamo.destroy();
    expect(Items?.length).toBeGreaterThan(0);
    expect(JSON.stringify(Items)).not.toContain(secret);
    expect(JSON.stringify(Items)).not.toContain('aws_secret_access_key');
  });

  it('tells the canonical user ID and a bucket policy to paste', async () => {
    const answer = (await (await fetch(`${pipeline.apiUrl}/v1/canonical-user?bucket=my-videos`)).json()) as Record<string, any>;

    expect(answer.canonical_user_id).toBe(pipeline.s3.canonicalUserId);
    expect(answer.bucket_policy.Statement[0]).toMatchObject({
      Principal: { CanonicalUser: pipeline.s3.canonicalUserId },
      Resource: 'arn:aws:s3:::my-videos/*',
    });
    expect(answer.bucket_policy.Statement[0].Action).toContain('s3:PutObjectAcl');
  });
});
