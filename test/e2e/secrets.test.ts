import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { readBody, startTestServer, type TestServer } from '../support/http-servers.ts';
import { waitFor } from '../support/wait.ts';

/** A value planted in one secret-bearing place; it must surface nowhere. */
function canary(place: string): string {
  return `canary${place}${randomBytes(6).toString('hex')}`;
}

const canaries = {
  inlineKeyId: canary('KEYID'),
  inlineSecret: canary('SECRET'),
  storedSecret: canary('STORED'),
  brokenSecret: canary('BROKEN'),
  sourceQuery: canary('SIG'),
  callbackQuery: canary('HOOK'),
  bearerHeader: canary('BEARER'),
  keyHeader: canary('APIKEY'),
  password: canary('PASSWORD'),
  destinationQuery: canary('PRESIGNED'),
  // Letters and digits (one at least), 26 characters: a token as webhooks put one in their path.
  pathToken: canary('WEBHOOK0'),
};

let pipeline: LocalPipeline;
let state: string;
let sources: TestServer;
let receiver: TestServer;
/** An HTTP endpoint that refuses every upload, quoting back the headers it got: a careless server. */
let echo: TestServer;
const logs: string[] = [];
const queued: string[] = [];
const callbacks: string[] = [];
/** The addresses the careless server was sent to, query and all. */
const echoed: string[] = [];

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
  pipeline = await startLocalPipeline({
    stateDirectory: state,
    maxAttempts: 2,
    retryBaseSeconds: 1,
    // Everything the functions log, at the most verbose level, is searched.
    logLevel: 'DEBUG',
    onLog: (text) => logs.push(text),
    onMessage: (body) => queued.push(body),
  });
  await pipeline.storeSecrets({
    'credentials/canary-keys': { aws_access_key_id: 'S3RVER', aws_secret_access_key: canaries.storedSecret },
    // Not JSON: the parser's own message would quote it.
    'credentials/canary-broken': `{"aws_secret_access_key": "${canaries.brokenSecret}"`,
  });
  sources = await startTestServer((request, response) => {
    if (request.url?.startsWith('/forbidden')) response.writeHead(403).end('signature expired');
    else response.writeHead(200, { 'content-length': '5' }).end('bytes');
  });
  echo = await startTestServer((request, response) => {
    echoed.push(request.url ?? '');
    request.resume();
    response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad upload', youSent: request.headers }));
  });
  receiver = await startTestServer((request, response) => {
    void readBody(request).then((body) => {
      callbacks.push(body.toString());
      response.writeHead(204).end();
    });
  });
});

afterAll(async () => {
  await sources.close();
  await receiver.close();
  await echo.close();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
});

async function post(body: unknown): Promise<string> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as { token?: string };
  if (!answer.token) throw new Error(`not accepted: ${JSON.stringify(answer)}`);
  return answer.token;
}

async function view(token: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as Record<string, unknown>;
}

function destination(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 's3', bucket: pipeline.deliveryBucket, endpoint: pipeline.s3.endpoint, filename: 'canary.bin', ...fields };
}

/** Every place the canaries must stay out of, as text. */
async function everythingObservable(views: readonly Record<string, unknown>[]): Promise<Record<'GET answers' | 'callback bodies' | 'the job table' | 'queue messages' | 'logs', string>> {
  const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: pipeline.dynamodbEndpoint, credentials });
  const { Items } = await dynamo.send(new ScanCommand({ TableName: resourceNames.table }));
  dynamo.destroy();
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials });
  const deadLetters = await sqs.send(new ReceiveMessageCommand({ QueueUrl: pipeline.deadLetterQueueUrls.s3, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
  sqs.destroy();
  return {
    'GET answers': JSON.stringify(views),
    'callback bodies': callbacks.join('\n'),
    'the job table': JSON.stringify(Items),
    'queue messages': [...queued, ...(deadLetters.Messages ?? []).map((message) => message.Body ?? '')].join('\n'),
    logs: logs.join(''),
  };
}

describe('No secret in any answer, record, message or log', () => {
  it('keeps every planted canary out of GET, callbacks, the table, the queues and the logs, on every failure path', async () => {
    // Prepare: one job per secret-bearing place, each failing its own way.
    const hook = `${receiver.url}/hook?token=${canaries.callbackQuery}`;
    const tokens = [
      // Inline keys the store refuses (an unknown key ID, which stores like to quote back).
      await post({
        source: { url: `${sources.url}/clip.bin?sig=${canaries.sourceQuery}` },
        upload: { destination: destination({ aws_access_key_id: canaries.inlineKeyId, aws_secret_access_key: canaries.inlineSecret }) },
        callback_url: hook,
      }),
      // A presigned source URL that has expired: its URL appears in the reason.
      await post({
        source: { url: `${sources.url}/forbidden.bin?X-Amz-Signature=${canaries.sourceQuery}&token=${canaries.sourceQuery}` },
        upload: { destination: destination({ credentials: 'canary-keys' }) },
        callback_url: hook,
      }),
      // A stored secret that is not JSON.
      await post({ source: { url: `${sources.url}/clip.bin` }, upload: { destination: destination({ credentials: 'canary-broken' }) }, callback_url: hook }),
      // Secret headers and a password sent to a server that quotes them back in its refusal.
      await post({
        source: { url: `${sources.url}/clip.bin` },
        upload: {
          destination: {
            type: 'http',
            url: `${echo.url}/in`,
            filename: 'clip.bin',
            method: 'PUT',
            user: 'render-farm',
            password: canaries.password,
            headers: { 'X-Api-Key': canaries.keyHeader, 'X-Trace': 'visible' },
          },
        },
        callback_url: hook,
      }),
      await post({
        source: { url: `${sources.url}/clip.bin` },
        upload: { destination: { type: 'http', url: `${echo.url}/in`, filename: 'clip.bin', headers: { Authorization: `Bearer ${canaries.bearerHeader}` } } },
        callback_url: hook,
      }),
      // A presigned upload URL: its signature goes to the server, and rests and travels only sealed.
      await post({
        source: { url: `${sources.url}/clip.bin` },
        upload: { destination: { type: 'http', url: `${echo.url}/in?X-Amz-Signature=${canaries.destinationQuery}`, filename: 'clip.bin', method: 'PUT' } },
        callback_url: hook,
      }),
      // A webhook whose token is in its path; its refusal names the address it was sent to.
      await post({
        source: { url: `${sources.url}/clip.bin` },
        upload: { destination: { type: 'http', url: `${echo.url}/api/webhooks/1234/${canaries.pathToken}`, filename: 'clip.bin' } },
        callback_url: hook,
      }),
      // Stored keys for a store nobody answers at: retried, then dead-lettered.
      await post({
        source: { url: `${sources.url}/clip.bin?sig=${canaries.sourceQuery}` },
        upload: { destination: destination({ credentials: 'canary-keys', endpoint: 'http://127.0.0.1:1' }) },
        callback_url: hook,
      }),
    ];

    // Act
    const views = await Promise.all(
      tokens.map((token) =>
        waitFor(async () => {
          const job = await view(token);
          return ['failed', 'succeeded', 'partially_failed'].includes(String(job.state)) ? job : undefined;
        }, 40_000, `job ${token} to finish`),
      ),
    );
    await waitFor(async () => (callbacks.length >= tokens.length ? true : undefined), 20_000, 'the callbacks');

    // Assess: every path failed (so every failure path was taken), and no canary is anywhere.
    expect(views.map((job) => (job.destinations as { error: { code: string } }[])[0]?.error.code)).toEqual([
      expect.any(String),
      'HTTP403',
      'InvalidSecret',
      'HTTP400',
      'HTTP400',
      'HTTP400',
      'HTTP400',
      'ECONNREFUSED',
    ]);
    expect(echoed.some((url) => url.includes(canaries.destinationQuery))).toBe(true);
    expect(echoed.some((url) => url.includes(canaries.pathToken))).toBe(true);
    const observable = await everythingObservable(views);
    expect(observable.logs.length).toBeGreaterThan(0);
    expect(observable['queue messages'].length).toBeGreaterThan(0);
    const leaks = Object.entries(observable).flatMap(([where, text]) =>
      Object.entries(canaries)
        .filter(([, value]) => text.includes(value))
        .map(([place]) => `${place} in ${where}`),
    );
    expect(leaks).toEqual([]);
  });
});
