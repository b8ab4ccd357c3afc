import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextPacificMidnight } from '../../functions/destinations/youtube/quota.ts';
import { youtubeDestinationSchema } from '../../functions/destinations/youtube/schema.ts';
import { youtubeUploader, type YouTubeResumeState } from '../../functions/destinations/youtube/upload.ts';
import type { TransferSettings } from '../../functions/destinations/youtube/transfer.ts';
import { classifyFailure, runUpload } from '../../shared/delivery/attempt.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import type { StoredCredentials } from '../../shared/destination/uploader.ts';
import { PermanentError, TransientError, WaitError, type DeliveryError } from '../../shared/errors.ts';
import type { DeliveredFile } from '../../shared/jobs/records.ts';
import { outboundNetwork, type OutboundNetwork } from '../../shared/net/outbound-network.ts';
import type { SourceReader } from '../../shared/sources/delivery-source.ts';
import { startYouTubeFake, youtubeChunkGranularity, youtubeScopes, type YouTubeFake, type YouTubeFakeOptions } from '../fakes/youtube.ts';
import type { AttemptOptions } from '../support/attempts.ts';
import { localNetwork } from '../support/network.ts';
import { MemoryResume, patternBytes, sha256, sourceOf, uploadContext } from '../support/sources.ts';

const MiB = 1024 * 1024;
const client = { client_id: 'client-id.apps.googleusercontent.com', client_secret: 'client-secret' };
let youtube: YouTubeFake;

async function startFake(options: YouTubeFakeOptions = {}): Promise<void> {
  youtube = await startYouTubeFake({ clients: [{ clientId: client.client_id, clientSecret: client.client_secret }], playlists: ['PLrenders'], ...options });
  youtube.tokens.grantAccess('upload-token', { scopes: [youtubeScopes.upload] });
  youtube.tokens.grantAccess('manage-token', { scopes: [youtubeScopes.manage] });
}

beforeEach(async () => {
  await startFake();
});

afterEach(async () => {
  await youtube.close();
});

function uploaderWith(settings: Partial<TransferSettings> = {}) {
  return youtubeUploader({ apiUrl: youtube.url, tokenUrl: `${youtube.url}/token` }, { chunkBytes: MiB, chunkRetries: 2, retryBaseMs: 5, checkpointBytes: 2 * MiB, ...settings });
}

/** The seeds' example, delivered with the fake's token. */
function destination(fields: Record<string, unknown> = {}) {
  return youtubeDestinationSchema.parse({
    type: 'youtube',
    title: 'Welcome, Alex!',
    description: 'A personalized welcome video.',
    category: '22',
    status: 'unlisted',
    tags: ['personalized', 'welcome'],
    oauth_access_token: 'upload-token',
    ...fields,
  });
}

type Options = AttemptOptions<YouTubeResumeState> & { application?: Record<string, string>; settings?: Partial<TransferSettings> };

/** One attempt as the runner makes it, with the application secret the runner would pass. */
async function deliver(fields: ReturnType<typeof destination>, source: SourceReader, options: Options = {}): Promise<DeliveredFile> {
  try {
    return await runUpload(uploaderWith(options.settings), { ...uploadContext(fields, source, options), application: options.application });
  } finally {
    source.close();
  }
}

async function failure(fields: ReturnType<typeof destination>, source: SourceReader, options: Options = {}): Promise<DeliveryError> {
  try {
    await deliver(fields, source, options);
  } catch (error) {
    return classifyFailure(uploaderWith(), error);
  }
  throw new Error('the attempt was expected to fail, and succeeded');
}

/** Stored secrets in memory, as the runner's store gives them to the uploader. */
class MemoryCredentials implements StoredCredentials {
  public readonly reference = undefined;
  public readonly secrets = new Map<string, Record<string, unknown>>();
  public updates = 0;

  public async read(name: string): Promise<Readonly<Record<string, unknown>>> {
    const secret = this.secrets.get(name);
    if (!secret) throw new PermanentError(`no stored secret named 'credentials/${name}'`, { code: 'SecretNotFound' });
    return { ...secret };
  }

  public async update(name: string, fields: Readonly<Record<string, string>>): Promise<void> {
    this.secrets.set(name, { ...this.secrets.get(name), ...fields });
    this.updates += 1;
  }
}

const onlyVideo = () => {
  expect(youtube.videos.size).toBe(1);
  return [...youtube.videos.values()][0]!;
};
const onlySession = () => {
  expect(youtube.sessions.size).toBe(1);
  return [...youtube.sessions.values()][0]!;
};
/** The access token a request carried. */
const bearer = (request: { readonly headers?: { readonly authorization?: unknown } } | undefined) => String(request?.headers?.authorization).replace(/^Bearer /, '');
const uploadRanges = () => youtube.requests.filter((request) => request.endpoint === 'upload').map((request) => request.headers['content-range']);

/** True when the ranges accepted cover [0, size) once each, in order. */
function acceptedOnce(ranges: readonly { start: number; end: number }[], size: number): boolean {
  let next = 0;
  for (const range of ranges) {
    if (range.start !== next) return false;
    next = range.end;
  }
  return next === size;
}

describe('YouTube destination: what lands on the channel', () => {
  it("delivers the seeds' example as one video with its title, description, category, privacy and tags, answered as its watch URL", async () => {
    const bytes = patternBytes(700_000, 1);

    const delivered = await deliver(destination(), sourceOf(bytes, { name: 'welcome.mp4' }));

    const video = onlyVideo();
    expect(video.metadata).toEqual({
      snippet: { title: 'Welcome, Alex!', description: 'A personalized welcome video.', categoryId: '22', tags: ['personalized', 'welcome'] },
      status: { privacyStatus: 'unlisted', selfDeclaredMadeForKids: undefined },
    });
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
    expect(video.notifySubscribers).toBe(true);
    expect(onlySession()).toMatchObject({ contentType: 'video/mp4', declaredLength: bytes.length });
    expect(delivered).toMatchObject({
      url: `https://www.youtube.com/watch?v=${video.id}`,
      bytes: bytes.length,
      details: { video_id: video.id, channel_id: 'UCfakeChannel0000000000', privacy_status: 'unlisted' },
    });
    expect(delivered.notes).toBeUndefined();
  });

  it('sends notifySubscribers: false, the mimetype given, and public as the default privacy', async () => {
    await deliver(destination({ notifySubscribers: false, mimetype: 'video/quicktime', status: undefined }), sourceOf(patternBytes(1000)));

    expect(onlyVideo()).toMatchObject({ notifySubscribers: false, metadata: { status: { privacyStatus: 'public' } } });
    expect(onlySession().contentType).toBe('video/quicktime');
    expect(youtube.requests.find((request) => request.endpoint === 'videos.insert')?.query.get('notifySubscribers')).toBe('false');
  });

  it('adds the video to playlistid', async () => {
    const delivered = await deliver(destination({ oauth_access_token: 'manage-token', playlistid: 'PLrenders' }), sourceOf(patternBytes(1000)));

    expect(youtube.playlists.get('PLrenders')).toEqual([onlyVideo().id]);
    expect(delivered.notes).toBeUndefined();
  });

  it('delivers the video with a note, not a failure, when it cannot be added to the playlist', async () => {
    const missing = await deliver(destination({ oauth_access_token: 'manage-token', playlistid: 'PLnothing' }), sourceOf(patternBytes(1000)));
    const unscoped = await deliver(destination({ playlistid: 'PLrenders' }), sourceOf(patternBytes(1000)));

    expect(youtube.videos.size).toBe(2);
    expect(missing.notes).toEqual([expect.stringMatching(/not added to playlist PLnothing: playlistid: the playlist does not exist/)]);
    expect(unscoped.notes).toEqual([expect.stringMatching(/not added to playlist PLrenders: .*youtube.upload to upload, and https:\/\/www.googleapis.com\/auth\/youtube to add to a playlist/)]);
    expect(youtube.playlists.get('PLrenders')).toEqual([]);
  });

  it("notes that YouTube made the video private when the API project is not audited", async () => {
    await youtube.close();
    await startFake({ unverifiedProject: true });

    const delivered = await deliver(destination({ status: 'public' }), sourceOf(patternBytes(1000)));

    expect(delivered.details).toMatchObject({ privacy_status: 'private' });
    expect(delivered.notes).toEqual([expect.stringMatching(/made the video private, not public/)]);
  });

  it('cuts every chunk but the last to a multiple of 256 KiB and states the total with each', async () => {
    const bytes = patternBytes(2 * MiB + 1234, 2);

    await deliver(destination(), sourceOf(bytes), { settings: { chunkBytes: 4 * youtubeChunkGranularity } });

    expect(uploadRanges()).toEqual([`bytes 0-${MiB - 1}/${bytes.length}`, `bytes ${MiB}-${2 * MiB - 1}/${bytes.length}`, `bytes ${2 * MiB}-${bytes.length - 1}/${bytes.length}`]);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('sends the session and every chunk over one connection', async () => {
    // Prepare: a network of its own, whose agent counts the connections it opens.
    const network = outboundNetwork({ allowPrivateNetworks: true });
    const opened = vi.spyOn(network.agents.http, 'createConnection');
    const bytes = patternBytes(3 * MiB + 5, 3);

    // Act
    await deliver(destination(), sourceOf(bytes), { network, settings: { chunkBytes: MiB } });

    // Assess: the initiation and four chunks (three answered 308) on the connection opened first.
    expect(uploadRanges()).toHaveLength(4);
    expect(opened).toHaveBeenCalledTimes(1);
  });

  it('sends a file of unknown size with "*" as the total until its last chunk', async () => {
    const bytes = patternBytes(MiB + 10, 3);

    await deliver(destination(), sourceOf(bytes, { size: undefined }));

    expect(onlySession().declaredLength).toBeUndefined();
    expect(uploadRanges()).toEqual([`bytes 0-${MiB - 1}/*`, `bytes ${MiB}-${MiB + 9}/${bytes.length}`]);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('completes a file of unknown size that ends on a chunk boundary with a status query stating the total', async () => {
    const bytes = patternBytes(2 * MiB, 4);

    await deliver(destination(), sourceOf(bytes, { size: undefined }));

    expect(uploadRanges()).toEqual([`bytes 0-${MiB - 1}/*`, `bytes ${MiB}-${2 * MiB - 1}/*`, `bytes */${2 * MiB}`]);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('uploads a large file with the default 16 MiB chunks, intact', async () => {
    const bytes = patternBytes(40 * MiB + 3, 5);

    await runUpload(youtubeUploader({ apiUrl: youtube.url, tokenUrl: `${youtube.url}/token` }), uploadContext(destination(), sourceOf(bytes)));

    expect(uploadRanges()).toHaveLength(3);
    expect(acceptedOnce(onlySession().bytes.acceptedRanges, bytes.length)).toBe(true);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });
});

describe("YouTube destination: auth_secret, the operator's own channel", () => {
  /** A stored secret `operator` holding a fresh refresh token the fake knows. */
  function operatorSecret(options: { rotate?: boolean; scopes?: string[] } = {}) {
    const refreshToken = `refresh-${randomUUID()}`;
    youtube.tokens.grantRefresh(refreshToken, { scopes: options.scopes ?? [youtubeScopes.upload], clientId: client.client_id, rotate: options.rotate ?? false });
    const credentials = new MemoryCredentials();
    credentials.secrets.set('operator', { refresh_token: refreshToken });
    return { refreshToken, credentials };
  }
  const viaSecret = destination({ oauth_access_token: undefined, auth_secret: 'operator' });

  it("mints an access token with the deployment's OAuth client and uploads with it", async () => {
    const { credentials } = operatorSecret();

    await deliver(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });

    expect(youtube.videos.size).toBe(1);
    const refresh = youtube.requests.filter((request) => request.endpoint === 'token');
    expect(refresh).toHaveLength(1);
    expect(youtube.requests.find((request) => request.endpoint === 'videos.insert')?.headers.authorization).toMatch(/^Bearer access-/);
    expect(credentials.updates).toBe(0);
  });

  it('reuses the minted token for the next delivery of a warm function', async () => {
    const { credentials } = operatorSecret();

    await deliver(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });
    await deliver(viaSecret, sourceOf(patternBytes(2000)), { credentials, application: client });

    expect(youtube.videos.size).toBe(2);
    expect(youtube.requestCount('token')).toBe(1);
  });

  it('writes a rotated refresh token back to the stored secret', async () => {
    const { refreshToken, credentials } = operatorSecret({ rotate: true });

    await deliver(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });

    const stored = credentials.secrets.get('operator')?.refresh_token as string;
    expect(stored).not.toBe(refreshToken);
    expect(youtube.tokens.refresh(stored, client.client_id, 60)).toBeDefined();
    expect(youtube.tokens.refresh(refreshToken, client.client_id, 60)).toBeUndefined();
  });

  it('fails permanently when Google refuses the refresh token (invalid_grant), naming the command that fixes it and no secret', async () => {
    const { refreshToken, credentials } = operatorSecret();
    youtube.tokens.revoke(refreshToken);

    const error = await failure(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'invalid_grant' });
    expect(error.message).toContain('npm run authorize -- youtube operator');
    expect(error.message).not.toContain(refreshToken);
    expect(youtube.sessions.size).toBe(0);
  });

  it("fails permanently when the deployment's OAuth client is refused (invalid_client)", async () => {
    const { credentials } = operatorSecret();

    const error = await failure(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: { ...client, client_secret: 'wrong' } });

    expect(error).toMatchObject({ code: 'invalid_client', retryable: false });
    expect(error.message).toContain('application/youtube');
    expect(error.message).not.toContain('wrong');
  });

  it('fails permanently when the operator stored no OAuth client', async () => {
    const { credentials } = operatorSecret();

    const error = await failure(viaSecret, sourceOf(patternBytes(1000)), { credentials });

    expect(error).toMatchObject({ code: 'MissingOAuthClient', retryable: false });
    expect(error.message).toContain('upload-destinations/application/youtube');
  });

  it('drops a minted token Google refuses (401), mints a fresh one and retries once', async () => {
    const { credentials } = operatorSecret();
    await deliver(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });
    // Google revokes access tokens before their hour is up (a password change, a security event).
    youtube.tokens.revoke(bearer(youtube.requests.find((request) => request.endpoint === 'videos.insert')));

    const delivered = await deliver(viaSecret, sourceOf(patternBytes(2000)), { credentials, application: client });

    expect(delivered.details).toMatchObject({ video_id: expect.any(String) });
    expect(youtube.videos.size).toBe(2);
    expect(youtube.requestCount('token')).toBe(2);
  });

  it('refreshes a token refused between the upload and the playlist, and adds the video', async () => {
    const { credentials } = operatorSecret({ scopes: [youtubeScopes.manage] });
    let revoked = false;
    const revoking: OutboundNetwork = {
      ...localNetwork,
      fetch: async (url, init) => {
        if (String(url).includes('/youtube/v3/playlistItems') && !revoked) {
          youtube.tokens.revoke(bearer(init));
          revoked = true;
        }
        return localNetwork.fetch(url, init);
      },
    };

    const delivered = await deliver(destination({ oauth_access_token: undefined, auth_secret: 'operator', playlistid: 'PLrenders' }), sourceOf(patternBytes(1000)), {
      credentials,
      application: client,
      network: revoking,
    });

    expect(delivered.notes).toBeUndefined();
    expect(youtube.playlists.get('PLrenders')).toEqual([onlyVideo().id]);
    expect(youtube.requestCount('token')).toBe(2);
  });

  it('fails permanently when a freshly minted token is refused too', async () => {
    const { credentials } = operatorSecret();
    youtube.faults.failNext({ endpoint: 'videos.insert', status: 401, times: 2 });

    const error = await failure(viaSecret, sourceOf(patternBytes(1000)), { credentials, application: client });

    expect(error).toMatchObject({ code: 'InvalidCredentials', retryable: false });
    expect(youtube.requestCount('token')).toBe(2);
    expect(youtube.requestCount('videos.insert')).toBe(2);
  });

  it('fails permanently when the named secret does not exist or holds no refresh token', async () => {
    const credentials = new MemoryCredentials();
    credentials.secrets.set('operator', { token: 'something else' });

    const missing = await failure(destination({ oauth_access_token: undefined, auth_secret: 'nobody' }), sourceOf(patternBytes(10)), { credentials, application: client });
    const empty = await failure(viaSecret, sourceOf(patternBytes(10)), { credentials, application: client });

    expect(missing).toMatchObject({ code: 'SecretNotFound', retryable: false });
    expect(missing.message).toContain('npm run authorize -- youtube nobody');
    expect(empty).toMatchObject({ code: 'InvalidSecret', retryable: false });
    expect(empty.message).not.toContain('something else');
  });
});

describe('YouTube destination: quotas wait, they do not fail', () => {
  it("waits until midnight Pacific when the project's daily upload quota is used up, uploading nothing", async () => {
    youtube.quota.exhaustUploads();
    const before = nextPacificMidnight();

    const error = await failure(destination(), sourceOf(patternBytes(1000)));

    expect(error).toBeInstanceOf(WaitError);
    expect(error.code).toBe('quotaExceeded');
    expect([before.getTime(), nextPacificMidnight().getTime()]).toContain((error as WaitError).until.getTime());
    expect(youtube.sessions.size).toBe(0);
  });

  it("waits until midnight Pacific when the channel's upload limit is reached", async () => {
    youtube.quota.reachChannelUploadLimit();

    const error = await failure(destination(), sourceOf(patternBytes(1000)));

    expect(error).toBeInstanceOf(WaitError);
    expect(error.code).toBe('uploadLimitExceeded');
    expect((error as WaitError).until.getTime()).toBe(nextPacificMidnight().getTime());
  });

  it('waits a minute on rateLimitExceeded, and as long as Retry-After says on a 429', async () => {
    youtube.quota.rateLimitNext();
    const limited = await failure(destination(), sourceOf(patternBytes(1000)));
    youtube.faults.throttleNext({ endpoint: 'videos.insert', retryAfterSeconds: 7 });
    const throttled = await failure(destination(), sourceOf(patternBytes(1000)));

    expect(limited).toBeInstanceOf(WaitError);
    expect((limited as WaitError).until.getTime() - Date.now()).toBeGreaterThan(50_000);
    expect((limited as WaitError).until.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    expect((throttled as WaitError).retryAfterSeconds).toBeLessThanOrEqual(7);
    expect((throttled as WaitError).retryAfterSeconds).toBeGreaterThanOrEqual(6);
  });
});

describe('YouTube destination: refusals', () => {
  it('fails permanently, saying what to do, when the access token has expired', async () => {
    youtube.tokens.grantAccess('old-token', { scopes: [youtubeScopes.upload] });
    youtube.tokens.expire('old-token');

    const error = await failure(destination({ oauth_access_token: 'old-token' }), sourceOf(patternBytes(1000)));

    expect(error).toMatchObject({ code: 'InvalidCredentials', retryable: false });
    expect(error.message).toMatch(/fresh oauth_access_token \(they live an hour\), or use auth_secret/);
    expect(error.message).not.toContain('old-token');
  });

  it('fails permanently when the token lacks the upload scope', async () => {
    youtube.tokens.grantAccess('read-token', { scopes: [youtubeScopes.readonly] });

    const error = await failure(destination({ oauth_access_token: 'read-token' }), sourceOf(patternBytes(1000)));

    expect(error).toMatchObject({ code: 'InsufficientScope', retryable: false });
  });

  it('fails permanently on a category YouTube does not let uploads take, suggesting 22', async () => {
    const error = await failure(destination({ category: '44' }), sourceOf(patternBytes(1000)));

    expect(error).toMatchObject({ code: 'invalidCategoryId', retryable: false });
    expect(error.message).toContain('"22"');
  });

  it('fails transiently when starting the session answers 503', async () => {
    youtube.faults.failNext({ endpoint: 'videos.insert', status: 503 });

    const error = await failure(destination(), sourceOf(patternBytes(1000)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).not.toBeInstanceOf(WaitError);
  });
});

describe('YouTube destination: interruptions continue the upload and never make a second video', () => {
  it('continues within the attempt after a connection dropped mid-chunk, accepting no byte twice', async () => {
    const bytes = patternBytes(5 * MiB + 99, 6);
    youtube.faults.dropConnectionAfter(300 * 1024, { endpoint: 'upload' });

    await deliver(destination(), sourceOf(bytes));

    const session = onlySession();
    expect(acceptedOnce(session.bytes.acceptedRanges, bytes.length)).toBe(true);
    // The dropped chunk's first 256 KiB were kept: only the rest of it was sent again.
    expect(session.bytes.bytesReceived).toBe(bytes.length + 300 * 1024 - youtubeChunkGranularity);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('continues within the attempt after a 503 on a chunk', async () => {
    const bytes = patternBytes(3 * MiB, 7);
    youtube.faults.failNext({ endpoint: 'upload', status: 503 });

    await deliver(destination(), sourceOf(bytes));

    expect(youtube.requests.some((request) => request.endpoint === 'upload' && request.status === 503)).toBe(true);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('makes one video when the answer to the last chunk is lost: the status query finds it', async () => {
    const bytes = patternBytes(500_000, 8);
    youtube.faults.loseNextAnswer({ endpoint: 'upload' });

    const delivered = await deliver(destination(), sourceOf(bytes));

    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id });
    expect(onlySession().bytes.bytesReceived).toBe(bytes.length);
  });

  it('makes one video when the attempt ends with the answer to the last chunk lost: the next finds it done and sends nothing', async () => {
    const bytes = patternBytes(500_000, 9);
    const resume = new MemoryResume<YouTubeResumeState>();
    youtube.faults.loseNextAnswer({ endpoint: 'upload' });

    const first = await failure(destination(), sourceOf(bytes), { resume, settings: { chunkRetries: 0 } });
    const delivered = await deliver(destination(), sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(resume.state).toMatchObject({ finalSent: true, videoId: onlyVideo().id });
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { video_id: onlyVideo().id } });
    expect(onlySession().bytes.bytesReceived).toBe(bytes.length);
  });

  it("continues the upload an attempt stopped by the function's timeout left, from what the session holds", async () => {
    const bytes = patternBytes(8 * MiB, 10);
    const resume = new MemoryResume<YouTubeResumeState>();
    const controller = new AbortController();
    const source = sourceOf(bytes);
    const watcher = setInterval(() => {
      if (source.position > 3 * MiB) controller.abort();
    }, 2);

    const first = await failure(destination(), source, { resume, signal: controller.signal }).finally(() => clearInterval(watcher));
    const delivered = await deliver(destination(), sourceOf(bytes), { resume });

    expect(first).toMatchObject({ code: 'Timeout', retryable: true });
    const resumedAt = Number(delivered.details?.resumed_at);
    expect(resumedAt).toBeGreaterThanOrEqual(MiB);
    expect(resumedAt % youtubeChunkGranularity).toBe(0);
    expect(youtube.requestCount('videos.insert')).toBe(1);
    const session = onlySession();
    expect(acceptedOnce(session.bytes.acceptedRanges, bytes.length)).toBe(true);
    // Sent again at most: the part of the chunk in flight that the session had not kept.
    expect(session.bytes.bytesReceived).toBeLessThanOrEqual(bytes.length + MiB);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('reads the source again only from the last checkpoint, and records the checksum of the whole file', async () => {
    const bytes = patternBytes(7 * MiB, 14);
    const resume = new MemoryResume<YouTubeResumeState>();
    await failure(destination(), sourceOf(bytes, { failsAt: 5 * MiB + 100 }), { resume });
    const checkpoint = resume.state?.checkpoint;
    const reads: number[] = [];

    const delivered = await deliver(destination(), sourceOf(bytes, { reads }), { resume });

    expect(checkpoint).toEqual({ offset: 4 * MiB, crc32: crc32(bytes.subarray(0, 4 * MiB)) });
    // The second attempt's source began at the checkpoint (4 MiB); the session held 5 MiB.
    expect(reads.reduce((sum, length) => sum + length, 0)).toBe(3 * MiB);
    expect(delivered).toMatchObject({ bytes: bytes.length, checksum: { value: crc32Base64(crc32(bytes)) }, details: { resumed_at: 5 * MiB } });
    expect(onlySession().bytes.bytesReceived).toBe(bytes.length);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('starts a new session when the earlier one expired before its last byte, and makes one video', async () => {
    const bytes = patternBytes(4 * MiB, 11);
    const resume = new MemoryResume<YouTubeResumeState>();
    await failure(destination(), sourceOf(bytes, { failsAt: 2 * MiB + 100 }), { resume });
    youtube.expireSession(onlySession().id);

    const delivered = await deliver(destination(), sourceOf(bytes), { resume });

    expect(youtube.sessions.size).toBe(2);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
    expect(delivered.notes).toEqual([expect.stringMatching(/had expired before its last byte; a new session was started/)]);
  });

  it('fails transiently when a chunk finds the session gone (410), and the next attempt starts a new one', async () => {
    const bytes = patternBytes(3 * MiB, 15);
    const resume = new MemoryResume<YouTubeResumeState>();
    let chunks = 0;
    // Google's upload service answers 410 Gone for a session that can no longer continue.
    const gone: OutboundNetwork = {
      ...localNetwork,
      fetch: async (url, init) => {
        if (init?.method !== 'PUT' || (chunks += 1) !== 2) return localNetwork.fetch(url, init);
        youtube.expireSession(onlySession().id);
        return Response.json({ error: { code: 410, message: 'Gone', errors: [{ domain: 'global', reason: 'backendError', message: 'Gone' }] } }, { status: 410 });
      },
    };

    const first = await failure(destination(), sourceOf(bytes), { resume, network: gone });
    const delivered = await deliver(destination(), sourceOf(bytes), { resume });

    expect(first).toMatchObject({ code: 'SessionExpired', retryable: true });
    expect(youtube.sessions.size).toBe(2);
    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id });
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('never starts again when the session expired after its last byte was sent: the video may exist', async () => {
    const bytes = patternBytes(500_000, 12);
    const resume = new MemoryResume<YouTubeResumeState>();
    youtube.faults.loseNextAnswer({ endpoint: 'upload' });
    youtube.faults.loseNextAnswer({ endpoint: 'upload' });
    await failure(destination(), sourceOf(bytes), { resume, settings: { chunkRetries: 1 } });
    youtube.expireSession(onlySession().id);

    const error = await failure(destination(), sourceOf(bytes), { resume });

    expect(error).toMatchObject({ code: 'UploadOutcomeUnknown', retryable: false });
    expect(youtube.sessions.size).toBe(1);
    expect(youtube.videos.size).toBe(1);
  });

  it('only adds to the playlist when the attempt before uploaded the video and then failed', async () => {
    const resume = new MemoryResume<YouTubeResumeState>();
    youtube.faults.failNext({ endpoint: 'playlistItems.insert', status: 503 });
    const fields = destination({ oauth_access_token: 'manage-token', playlistid: 'PLrenders' });

    const first = await failure(fields, sourceOf(patternBytes(1000)), { resume });
    const delivered = await deliver(fields, sourceOf(patternBytes(1000)), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(youtube.requestCount('videos.insert')).toBe(1);
    expect(youtube.playlists.get('PLrenders')).toEqual([onlyVideo().id]);
    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id, privacy_status: 'unlisted' });
  });

  it('fails permanently, uploading nothing, when the video an earlier attempt made is gone', async () => {
    const resume = new MemoryResume<YouTubeResumeState>();
    await resume.save({ sessionUri: `${youtube.url}/upload/youtube/v3/videos?upload_id=gone`, finalSent: true, videoId: 'deletedVide' });

    const error = await failure(destination({ oauth_access_token: 'manage-token' }), sourceOf(patternBytes(1000)), { resume });

    expect(error).toMatchObject({ code: 'VideoGone', retryable: false });
    expect(youtube.sessions.size).toBe(0);
  });

  it('discards an unfinished upload by cancelling its session, and never a finished video', async () => {
    const resume = new MemoryResume<YouTubeResumeState>();
    await failure(destination(), sourceOf(patternBytes(3 * MiB, 13), { failsAt: 2 * MiB }), { resume });
    const uploader = uploaderWith();
    const access = { destination: destination(), signal: AbortSignal.timeout(5000), network: localNetwork };

    await uploader.discard!({ ...access, state: resume.state! });
    await uploader.discard!({ ...access, state: { sessionUri: resume.state!.sessionUri, videoId: 'finishedVid' } });

    expect(onlySession()).toMatchObject({ cancelled: true, videoId: undefined });
    expect(youtube.requestCount('upload.cancel')).toBe(1);
  });
});
