import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { pageVideoPermissions, startFacebookFake, type FacebookFake } from '../fakes/facebook.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

const MiB = 1024 * 1024;
const pageId = '20000000000001';
const pageToken = 'e2e-page-token';
const systemUserToken = 'e2e-system-user-token';
const renderKey = 'renders/welcome.mp4';
const renderBytes = patternBytes(3 * MiB + 11, 5);

let pipeline: LocalPipeline;
let facebook: FacebookFake;
let state: string;

interface Answer {
  status: number;
  body: Record<string, any>;
}

async function deliver(destination: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      source: { bucket: resourceNames.stagingBucket, key: renderKey },
      upload: { extension: 'mp4', async: false, destination },
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** The seeds' example, pointed at the Graph fake. */
function seedExample(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'facebook', title: 'Welcome Video', description: 'A personalized welcome.', endpoint: facebook.url, ...fields };
}

beforeAll(async () => {
  facebook = await startFacebookFake({ transferChunkBytes: MiB });
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(systemUserToken, { scopes: pageVideoPermissions });
  state = await mkdtemp(join(tmpdir(), 'ud-facebook-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 3, retryBaseSeconds: 1, stagingSourcePrefixes: ['renders/'] });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: renderKey, Body: renderBytes }));
  s3.destroy();
  // A stored secret holding a system user's token, as `credentials: "local-facebook"` names it.
  await pipeline.storeSecrets({ 'credentials/local-facebook': { oauth_access_token: systemUserToken } });
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  await facebook?.close();
  await rm(state, { recursive: true, force: true });
});

describe('the local pipeline delivering to Facebook (Graph fake)', () => {
  it("publishes the seeds' example with a Page token and answers the video's URL", async () => {
    const answer = await deliver(seedExample({ oauth_access_token: pageToken }));

    expect(answer.status).toBe(200);
    const video = [...facebook.videos.values()].find((candidate) => answer.body.upload.endsWith(`/videos/${candidate.id}`));
    expect(answer.body.upload).toBe(`https://www.facebook.com/${pageId}/videos/${video?.id}`);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'succeeded', bytes: renderBytes.length, details: { video_id: video?.id, page_id: pageId } });
    expect(video).toMatchObject({ title: 'Welcome Video', description: 'A personalized welcome.' });
    expect(await video?.bytes.sha256()).toBe(sha256(renderBytes));
  });

  it('publishes on page_id with a system-user token from stored credentials', async () => {
    const answer = await deliver(seedExample({ credentials: 'local-facebook', page_id: pageId, title: 'From stored credentials' }));

    expect(answer.status).toBe(200);
    const video = [...facebook.videos.values()].find((candidate) => candidate.title === 'From stored credentials');
    expect(video).toMatchObject({ flow: 'file-handle', pageId });
    expect(await video?.bytes.sha256()).toBe(sha256(renderBytes));
  });

  it('continues an upload whose connection dropped in the next attempt, from where Facebook stands, and publishes one video', async () => {
    const before = facebook.videos.size;
    facebook.faults.dropConnectionAfter(1.5 * MiB, { endpoint: 'uploads.transfer' });

    const answer = await deliver(seedExample({ credentials: 'local-facebook', page_id: pageId, title: 'After a dropped connection' }));

    expect(answer.status).toBe(200);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 2, bytes: renderBytes.length, details: { resumed_at: 1.5 * MiB } });
    expect(facebook.videos.size).toBe(before + 1);
    const video = [...facebook.videos.values()].find((candidate) => candidate.title === 'After a dropped connection');
    expect(video?.bytes.acceptedRanges).toEqual([
      { start: 0, end: 1.5 * MiB },
      { start: 1.5 * MiB, end: renderBytes.length },
    ]);
    expect(video?.bytes.bytesReceived).toBe(renderBytes.length);
    expect(await video?.bytes.sha256()).toBe(sha256(renderBytes));
  });

  it("fails the seeds' example at once when the token is a person's: no profile publishing, nothing uploaded", async () => {
    const sessions = facebook.uploadSessions.size + facebook.transferSessions.size;

    const answer = await deliver(seedExample({ oauth_access_token: systemUserToken }));

    expect(answer.status).toBe(502);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'ProfileNotSupported' } });
    expect(answer.body.destinations[0].error.message).toMatch(/^page_id: /);
    expect(facebook.uploadSessions.size + facebook.transferSessions.size).toBe(sessions);
  });
});
