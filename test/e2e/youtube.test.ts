import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPacificMidnight } from '../../functions/destinations/youtube/quota.ts';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { startYouTubeFake, youtubeScopes, type YouTubeFake } from '../fakes/youtube.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const client = { client_id: 'e2e-client.apps.googleusercontent.com', client_secret: 'e2e-client-secret' };
const sourceBytes = patternBytes(3 * 1024 * 1024 + 5, 31);
const source = { bucket: resourceNames.stagingBucket, key: 'renders/welcome.mp4' };
let youtube: YouTubeFake;
let pipeline: LocalPipeline;
let state: string;

/** The seeds' YouTube example, as written there. */
const seedExample = {
  type: 'youtube',
  title: 'Welcome, Alex!',
  description: 'A personalized welcome video.',
  category: '22',
  status: 'unlisted',
  tags: ['personalized', 'welcome'],
  oauth_access_token: 'ya29.your-oauth-token',
};

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  youtube = await startYouTubeFake({ clients: [{ clientId: client.client_id, clientSecret: client.client_secret }], playlists: ['PLwelcome'] });
  youtube.tokens.grantAccess(seedExample.oauth_access_token, { scopes: [youtubeScopes.upload] });
  // How an operator points the local runtime at another Google (the functions inherit the environment).
  process.env.UD_YOUTUBE_API_URL = youtube.url;
  process.env.UD_GOOGLE_TOKEN_URL = `${youtube.url}/token`;
  state = await mkdtemp(join(tmpdir(), 'ud-youtube-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, stagingSourcePrefixes: ['renders/'] });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: source.bucket, Key: source.key, Body: sourceBytes, ContentType: 'video/mp4' }));
  s3.destroy();
}, 60_000);

afterAll(async () => {
  delete process.env.UD_YOUTUBE_API_URL;
  delete process.env.UD_GOOGLE_TOKEN_URL;
  await pipeline?.close();
  await youtube?.close();
  await rm(state, { recursive: true, force: true });
});

describe('YouTube through the local pipeline', () => {
  it("delivers the seeds' example as written, answering the video's watch URL", async () => {
    const answer = await post({ source, upload: { extension: 'mp4', async: false, destination: seedExample } });

    expect(answer.status).toBe(200);
    const [video] = [...youtube.videos.values()];
    expect(answer.body.upload).toBe(`https://www.youtube.com/watch?v=${video?.id}`);
    expect(answer.body.destinations[0]).toMatchObject({ type: 'youtube', state: 'succeeded', bytes: sourceBytes.length, details: { video_id: video?.id } });
    expect(video?.metadata.snippet).toEqual({ title: 'Welcome, Alex!', description: 'A personalized welcome video.', categoryId: '22', tags: ['personalized', 'welcome'] });
    expect(video?.metadata.status.privacyStatus).toBe('unlisted');
    expect(await video?.bytes.sha256()).toBe(sha256(sourceBytes));
  });

  it("uploads to the operator's own channel with auth_secret and adds the video to the playlist", async () => {
    youtube.tokens.grantRefresh('refresh-studio', { scopes: [youtubeScopes.upload, youtubeScopes.manage], clientId: client.client_id });
    await pipeline.storeSecrets({ 'credentials/studio': { refresh_token: 'refresh-studio' }, 'application/youtube': client });
    const destination = { ...seedExample, oauth_access_token: undefined, auth_secret: 'studio', title: 'Studio cut', playlistid: 'PLwelcome' };

    const answer = await post({ source, upload: { async: false, destination } });

    expect(answer.status).toBe(200);
    const videoId = answer.body.destinations[0].details.video_id as string;
    expect(youtube.videos.get(videoId)?.metadata.snippet.title).toBe('Studio cut');
    expect(youtube.playlists.get('PLwelcome')).toEqual([videoId]);
  });

  it('answers a title YouTube would refuse with 400 at the door, naming the field', async () => {
    const answer = await post({ source, upload: { destination: { ...seedExample, title: '<b>Welcome</b>' } } });

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'upload.destination.title', message: 'must not contain < or >' }]);
  });

  it('shows a delivery as waiting until midnight Pacific when the daily quota is used up', async () => {
    youtube.quota.exhaustUploads();

    const accepted = await post({ source, upload: { destination: seedExample } });

    expect(accepted.status).toBe(202);
    const view = await waitFor(async () => {
      const job = (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${accepted.body.token}`)).json()) as Record<string, any>;
      return job.destinations[0].state === 'waiting' ? job : undefined;
    }, 30_000, 'the delivery to wait');
    expect(view.destinations[0]).toMatchObject({ state: 'waiting', attempts: expect.any(Number), error: { code: 'quotaExceeded' } });
    expect(Date.parse(view.destinations[0].wait_until)).toBe(nextPacificMidnight().getTime());
  });
});
