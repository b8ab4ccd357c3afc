import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropboxEndpointVariables } from '../../functions/destinations/dropbox/endpoints.ts';
import { defaultChunkBytes } from '../../functions/destinations/dropbox/upload.ts';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { secretNames } from '../../shared/config.ts';
import { type DropboxFake, dropboxScopes, startDropboxFake } from '../fakes/dropbox.ts';
import { testApp } from '../support/dropbox.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

let fake: DropboxFake;
let pipeline: LocalPipeline;
let state: string;
const smallRender = patternBytes(300_000, 31);
// Larger than the function's chunk: an upload session.
const largeRender = patternBytes(defaultChunkBytes + 3, 32);

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function finished(token: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const view = (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as Record<string, any>;
    return ['succeeded', 'failed', 'partially_failed'].includes(view.state) ? view : undefined;
  }, 45_000, `job ${token} to finish`);
}

beforeAll(async () => {
  fake = await startDropboxFake({ clients: [{ clientId: testApp.app_key, clientSecret: testApp.app_secret }] });
  fake.tokens.grantRefresh('refresh-of-the-owner', { scopes: Object.values(dropboxScopes), clientId: testApp.app_key });
  // The functions read where Dropbox is at their cold start, from the environment the runtime gives them.
  vi.stubEnv(dropboxEndpointVariables.api, fake.url);
  vi.stubEnv(dropboxEndpointVariables.content, fake.url);
  state = await mkdtemp(join(tmpdir(), 'ud-dropbox-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, stagingSourcePrefixes: ['renders/'] });
  await pipeline.storeSecrets({
    [secretNames.application('dropbox')]: { ...testApp },
    [secretNames.credentials('your-auth-secret')]: { refresh_token: 'refresh-of-the-owner' },
  });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: 'renders/welcome', Body: smallRender }));
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: 'renders/feature.mp4', Body: largeRender }));
  s3.destroy();
});

afterAll(async () => {
  await pipeline?.close();
  await fake?.close();
  vi.unstubAllEnvs();
  await rm(state, { recursive: true, force: true });
});

describe('Dropbox through the local pipeline', () => {
  it("delivers the seed's example as written", async () => {
    const accepted = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/welcome' },
      upload: { extension: 'mp4', destination: { type: 'dropbox', filename: 'Videos/welcome.mp4', auth_secret: 'your-auth-secret' } },
    });

    expect(accepted.status).toBe(202);
    const view = await finished(accepted.body.token);
    expect(view).toMatchObject({
      state: 'succeeded',
      upload: 'https://www.dropbox.com/home/Videos?preview=welcome.mp4',
      destinations: [{ type: 'dropbox', state: 'succeeded', bytes: smallRender.length, attempts: 1, error: null }],
    });
    expect(await fake.file('/Videos/welcome.mp4')?.bytes.sha256()).toBe(sha256(smallRender));
  });

  it('delivers a file larger than a chunk through an upload session, with a shared link as the answer', async () => {
    const answer = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/feature.mp4' },
      upload: { async: false, destination: { type: 'dropbox', filename: '/Videos/', auth_secret: 'your-auth-secret', shared_link: true } },
    });

    expect(answer.status).toBe(200);
    const file = fake.file('/Videos/feature.mp4');
    expect(answer.body.upload).toBe(file?.sharedLink);
    expect(await file?.bytes.sha256()).toBe(sha256(largeRender));
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
  });

  it('fails the destination for good, saying what to do, when the stored refresh token is revoked', async () => {
    await pipeline.storeSecrets({ [secretNames.credentials('revoked')]: { refresh_token: 'never-issued' } });

    const accepted = await post({
      source: { bucket: resourceNames.stagingBucket, key: 'renders/welcome' },
      upload: { destination: { type: 'dropbox', filename: 'Videos/revoked.mp4', auth_secret: 'revoked' } },
    });

    const view = await finished(accepted.body.token);
    expect(view.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'invalid_grant', message: expect.stringContaining('authorize again') } });
    expect(fake.file('/Videos/revoked.mp4')).toBeUndefined();
  });
});
