import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { startTestAzure, type TestAzure } from '../support/azure-storage.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
let pipeline: LocalPipeline;
let azure: TestAzure;
let state: string;
let sources: TestServer;
const video = patternBytes(20 * MiB + 5, 11);
/** Whether `/breaks.mp4` has been cut off once (after 15 MiB), as a dropped connection would. */
let broken = false;
const rangesAsked: string[] = [];

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function finished(token: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const view = (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as Record<string, any>;
    return ['succeeded', 'failed'].includes(view.state) ? view : undefined;
  }, 60_000, `job ${token} to finish`);
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-azure-e2e-'));
  azure = await startTestAzure(['videos']);
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1 });
  sources = await startTestServer((request, response) => {
    const range = request.headers.range;
    if (range) {
      rangesAsked.push(range);
      const from = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
      response.writeHead(206, { 'content-type': 'video/mp4', 'content-length': String(video.length - from), 'content-range': `bytes ${from}-${video.length - 1}/${video.length}` });
      response.end(video.subarray(from));
      return;
    }
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(video.length), etag: '"v1"' });
    if (request.url === '/breaks.mp4' && !broken) {
      broken = true;
      response.write(video.subarray(0, 15 * MiB), () => response.destroy());
      return;
    }
    response.end(video);
  });
  // A stored secret, as `credentials: "local-azure"` names it.
  await pipeline.storeSecrets({ 'credentials/local-azure': { connection_string: azure.connectionString } });
});

afterAll(async () => {
  await sources?.close();
  await pipeline?.close();
  await azure?.close();
  await rm(state, { recursive: true, force: true });
});

describe('the local pipeline delivering to Azure Blob Storage (Azurite)', () => {
  it("delivers the seeds' example (pointed at Azurite) and answers the blob URL", async () => {
    // Act
    const answer = await post({
      source: { url: `${sources.url}/welcome.mp4` },
      upload: {
        extension: 'mp4',
        async: false,
        destination: {
          type: 'azureblob',
          account: azure.account,
          key: azure.accountKey,
          container: 'videos',
          filename: 'renders/welcome.mp4',
          contenttype: 'video/mp4',
          endpoint: azure.blobEndpoint,
        },
      },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      state: 'succeeded',
      upload: `${azure.blobEndpoint}/videos/renders/welcome.mp4`,
      destinations: [{ type: 'azureblob', state: 'succeeded', bytes: video.length, attempts: 1, details: { blocks: 3 } }],
    });
    const blob = azure.service.getContainerClient('videos').getBlockBlobClient('renders/welcome.mp4');
    expect(sha256(await blob.downloadToBuffer())).toBe(sha256(video));
    expect((await blob.getProperties()).contentType).toBe('video/mp4');
    expect(JSON.stringify(answer.body)).not.toContain(azure.accountKey);
  });

  it('takes the credentials from a stored secret, and continues a broken upload from the staged blocks on the next attempt', async () => {
    const accepted = await post({
      source: { url: `${sources.url}/breaks.mp4` },
      upload: { destination: { type: 'azureblob', credentials: 'local-azure', container: 'videos', filename: 'continued/' } },
    });

    const view = await finished(accepted.body.token);
    expect(view.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 2, details: { blocks: 3, resumed_at: 8 * MiB } });
    const blob = azure.service.getContainerClient('videos').getBlockBlobClient('continued/breaks.mp4');
    expect(sha256(await blob.downloadToBuffer())).toBe(sha256(video));
    // The second attempt read the source from the first block it had not staged.
    expect(rangesAsked).toContain(`bytes=${8 * MiB}-`);
    const blockBytes = azure.requests
      .filter((request) => request.path === '/videos/continued/breaks.mp4' && request.query.get('comp') === 'block')
      .reduce((sum, request) => sum + request.bodyBytes, 0);
    expect(blockBytes).toBeLessThan(video.length + 8 * MiB);
  });

  it('fails at once, saying what to change, when the container does not exist', async () => {
    const answer = await post({
      source: { url: `${sources.url}/welcome.mp4` },
      upload: { async: false, destination: { type: 'azureblob', credentials: 'local-azure', container: 'missing', filename: 'a.mp4' } },
    });

    expect(answer.status).toBe(502);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'ContainerNotFound' } });
    expect(answer.body.destinations[0].error.message).toContain('create it');
  });
});
