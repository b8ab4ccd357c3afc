import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { secretNames } from '../../shared/config.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { startTestUploadServer, type TestUploadServer } from '../support/servers/http-upload.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const sourceBytes = patternBytes(2 * 1024 * 1024 + 11, 31);
const token = 'your-api-token';
let pipeline: LocalPipeline;
let state: string;
let sources: TestServer;
let uploads: TestUploadServer;

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function finished(jobToken: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const view = (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${jobToken}`)).json()) as Record<string, any>;
    return ['succeeded', 'failed', 'partially_failed'].includes(view.state) ? view : undefined;
  }, 30_000, `job ${jobToken} to finish`);
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-http-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 3, retryBaseSeconds: 1 });
  sources = await startTestServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(sourceBytes.length) }).end(sourceBytes);
  });
  uploads = await startTestUploadServer();
  // A stored secret, as an operator would put it: the endpoint's token under a name.
  await pipeline.storeSecrets({ [secretNames.credentials('my-endpoint')]: { headers: { Authorization: 'Bearer stored-token' } } });
  // The whole local runtime starts here: on a busy two-core machine that takes a while.
}, 180_000);

afterAll(async () => {
  await sources.close();
  await uploads.close();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
});

describe('the HTTP destination through the local pipeline', () => {
  it("delivers the seeds' example (on a local server) and never keeps its token in clear", async () => {
    // Act
    const answer = await post({
      source: { url: `${sources.url}/renders/welcome.mp4` },
      upload: {
        extension: 'mp4',
        async: false,
        destination: { type: 'http', url: `${uploads.url}/upload/api/videos`, filename: 'welcome.mp4', method: 'POST', headers: { Authorization: `Bearer ${token}` } },
      },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      upload: `${uploads.url}/upload/api/videos`,
      destinations: [{ type: 'http', state: 'succeeded', bytes: sourceBytes.length, attempts: 1, details: { status: 200, method: 'POST', body: 'content-length' } }],
    });
    const [request] = uploads.requests.filter((each) => each.url === '/upload/api/videos');
    expect(request!.headers.authorization).toBe(`Bearer ${token}`);
    expect(request!.files).toEqual([{ field: 'file', filename: 'welcome.mp4', mimeType: 'video/mp4', size: sourceBytes.length, sha256: sha256(sourceBytes) }]);
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: pipeline.dynamodbEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const { Items } = await dynamo.send(new ScanCommand({ TableName: resourceNames.table }));
    dynamo.destroy();
    expect(JSON.stringify(Items)).toContain('/upload/api/videos');
    expect(JSON.stringify(Items)).not.toContain(token);
  });

  it('retries a 503 with stored credentials, and delivers on the next attempt', async () => {
    uploads.script('/upload/busy', { status: 503, headers: { 'retry-after': '1' }, body: 'busy' });

    const accepted = await post({
      source: { url: `${sources.url}/renders/welcome.mp4` },
      upload: { destination: { type: 'http', url: `${uploads.url}/upload/busy`, method: 'PUT', filename: 'welcome.mp4', credentials: 'my-endpoint' } },
    });
    const view = await finished(accepted.body.token);

    expect(view).toMatchObject({ state: 'succeeded', destinations: [{ state: 'succeeded', attempts: 2 }] });
    const seen = uploads.requests.filter((each) => each.url === '/upload/busy');
    expect(seen.map((each) => [each.status, each.headers.authorization])).toEqual([
      [503, 'Bearer stored-token'],
      [200, 'Bearer stored-token'],
    ]);
    expect(uploads.stored.get('busy')?.sha256).toBe(sha256(sourceBytes));
  });

  it('answers a GET destination with a 400 that names the method and says what to use', async () => {
    const answer = await post({
      source: { url: `${sources.url}/renders/welcome.mp4` },
      upload: { destination: { type: 'http', url: `${uploads.url}/upload/x`, filename: 'welcome.mp4', method: 'GET' } },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'upload.destination.method', message: expect.stringContaining('use POST (the file as a multipart form) or PUT') }]);
  });
});
