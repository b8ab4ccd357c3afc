import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patternBytes, sha256 } from '../support/sources.ts';
import { startYouTubeFake, type YouTubeFake, youtubeChunkGranularity, youtubeScopes } from './youtube.ts';

const KiB = 1024;
const chunk = youtubeChunkGranularity;
const token = 'upload-token';
const metadata = { snippet: { title: 'A render', description: 'Made by the pipeline', tags: ['render'], categoryId: '22' }, status: { privacyStatus: 'unlisted' } };

let youtube: YouTubeFake;

beforeEach(async () => {
  youtube = await startYouTubeFake({ clients: [{ clientId: 'client', clientSecret: 'secret' }], playlists: ['PLfake'] });
  youtube.tokens.grantAccess(token, { scopes: [youtubeScopes.upload] });
});

afterEach(async () => {
  await youtube.close();
});

async function initiate(options: { body?: unknown; headers?: Record<string, string>; bearer?: string; query?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': 'video/mp4', ...options.headers };
  if (options.bearer !== '') headers.authorization = `Bearer ${options.bearer ?? token}`;
  return fetch(`${youtube.url}/upload/youtube/v3/videos?${options.query ?? 'uploadType=resumable&part=snippet,status&notifySubscribers=false'}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(options.body ?? metadata),
  });
}

async function sessionUri(headers: Record<string, string> = {}): Promise<string> {
  const response = await initiate({ headers });
  expect(response.status).toBe(200);
  return response.headers.get('location') ?? '';
}

function putChunk(uri: string, bytes: Buffer, first: number, total: number | '*'): Promise<Response> {
  return fetch(uri, { method: 'PUT', headers: { 'content-range': `bytes ${first}-${first + bytes.length - 1}/${total}` }, body: bytes });
}

function statusQuery(uri: string, total: number | '*'): Promise<Response> {
  return fetch(uri, { method: 'PUT', headers: { 'content-range': `bytes */${total}`, 'content-length': '0' } });
}

/** The file's size once it is no longer empty (0 after a second: the bytes were held back). */
async function grownSize(path: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { size } = await stat(path);
    if (size > 0) return size;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return 0;
}

function sessionOf(uri: string) {
  const session = youtube.sessions.get(new URL(uri).searchParams.get('upload_id') ?? '');
  if (!session) throw new Error(`no session for ${uri}`);
  return session;
}

async function errorOf(response: Response): Promise<{ code: number; reason: string; domain: string }> {
  const body = (await response.json()) as { error: { code: number; errors: { reason: string; domain: string }[] } };
  return { code: body.error.code, reason: body.error.errors[0]?.reason ?? '', domain: body.error.errors[0]?.domain ?? '' };
}

describe('YouTube fake: resumable upload', () => {
  it('stores a video sent in several chunks, answering 308 with the range kept until the last', async () => {
    const file = patternBytes(2 * chunk + 100 * KiB, 3);
    const uri = await sessionUri({ 'x-upload-content-length': String(file.length) });

    const first = await putChunk(uri, file.subarray(0, chunk), 0, file.length);
    const second = await putChunk(uri, file.subarray(chunk, 2 * chunk), chunk, file.length);
    const last = await putChunk(uri, file.subarray(2 * chunk), 2 * chunk, file.length);

    expect([first.status, first.headers.get('range')]).toEqual([308, `bytes=0-${chunk - 1}`]);
    expect([second.status, second.headers.get('range')]).toEqual([308, `bytes=0-${2 * chunk - 1}`]);
    expect(last.status).toBe(200);
    const video = (await last.json()) as { kind: string; id: string; snippet: { title: string; tags: string[] }; status: { privacyStatus: string } };
    expect(video).toMatchObject({ kind: 'youtube#video', snippet: { title: 'A render', tags: ['render'] }, status: { privacyStatus: 'unlisted' } });
    const stored = youtube.videos.get(video.id);
    expect(await stored?.bytes.sha256()).toBe(sha256(file));
    expect(stored?.notifySubscribers).toBe(false);
    expect(sessionOf(uri).bytes.acceptedRanges).toEqual([
      { start: 0, end: chunk },
      { start: chunk, end: 2 * chunk },
      { start: 2 * chunk, end: file.length },
    ]);
    expect(youtube.videos.size).toBe(1);
  });

  it('answers a status query with 308 and no Range header while nothing is kept', async () => {
    const uri = await sessionUri();

    const response = await statusQuery(uri, 1000);

    expect(response.status).toBe(308);
    expect(response.headers.get('range')).toBeNull();
  });

  it('keeps what arrived before a dropped connection, in whole 256 KiB units, and resumes from there', async () => {
    const file = patternBytes(2 * chunk, 5);
    const uri = await sessionUri();
    youtube.faults.dropConnectionAfter(chunk + 10 * KiB, { endpoint: 'upload' });

    await expect(putChunk(uri, file, 0, file.length)).rejects.toThrow();
    const query = await statusQuery(uri, file.length);
    const resumed = await putChunk(uri, file.subarray(chunk), chunk, file.length);

    expect([query.status, query.headers.get('range')]).toEqual([308, `bytes=0-${chunk - 1}`]);
    expect(resumed.status).toBe(200);
    const session = sessionOf(uri);
    expect(await session.bytes.sha256()).toBe(sha256(file));
    expect(session.bytes.bytesReceived).toBe(chunk + 10 * KiB + chunk);
    expect(session.bytes.acceptedRanges).toEqual([
      { start: 0, end: chunk },
      { start: chunk, end: 2 * chunk },
    ]);
  });

  it('keeps only whole 256 KiB units of a chunk that is not a multiple of them', async () => {
    const file = patternBytes(3 * chunk, 7);
    const uri = await sessionUri();

    const response = await putChunk(uri, file.subarray(0, chunk + 1000), 0, file.length);

    expect([response.status, response.headers.get('range')]).toEqual([308, `bytes=0-${chunk - 1}`]);
  });

  it('drops the already kept part of an overlapping resend, so no byte is accepted twice', async () => {
    const file = patternBytes(2 * chunk + 5, 9);
    const uri = await sessionUri();
    await putChunk(uri, file.subarray(0, chunk), 0, file.length);

    const resend = await putChunk(uri, file.subarray(0), 0, file.length);

    expect(resend.status).toBe(200);
    const session = sessionOf(uri);
    expect(session.bytes.acceptedRanges).toEqual([
      { start: 0, end: chunk },
      { start: chunk, end: file.length },
    ]);
    expect(session.bytes.bytesReceived).toBe(chunk + file.length);
    expect(session.bytes.bytesReceived - session.bytes.bytesAccepted).toBe(chunk);
    expect(await session.bytes.sha256()).toBe(sha256(file));
  });

  it('takes chunks of an upload whose size is known only at the last chunk', async () => {
    const file = patternBytes(chunk + 10, 11);
    const uri = await sessionUri();

    const first = await putChunk(uri, file.subarray(0, chunk), 0, '*');
    const unknownTotal = await statusQuery(uri, '*');
    const last = await putChunk(uri, file.subarray(chunk), chunk, file.length);

    expect(first.status).toBe(308);
    expect(unknownTotal.headers.get('range')).toBe(`bytes=0-${chunk - 1}`);
    expect(last.status).toBe(200);
    expect(await sessionOf(uri).bytes.sha256()).toBe(sha256(file));
  });

  it('takes a whole file in one PUT without Content-Range', async () => {
    const file = patternBytes(100 * KiB, 13);
    const uri = await sessionUri();

    const response = await fetch(uri, { method: 'PUT', body: file });

    expect(response.status).toBe(200);
    expect(await sessionOf(uri).bytes.read()).toEqual(file);
  });

  it('answers the video to a status query and to a resent last chunk after the answer was lost, making one video', async () => {
    const file = patternBytes(chunk + 1, 15);
    const uri = await sessionUri();
    youtube.faults.loseNextAnswer({ endpoint: 'upload' });

    await expect(putChunk(uri, file, 0, file.length)).rejects.toThrow();
    const query = await statusQuery(uri, file.length);
    const resend = await putChunk(uri, file, 0, file.length);

    expect(query.status).toBe(200);
    const videoId = ((await query.json()) as { id: string }).id;
    expect(((await resend.json()) as { id: string }).id).toBe(videoId);
    expect([...youtube.videos.keys()]).toEqual([videoId]);
    expect(youtube.requests.find((entry) => entry.endpoint === 'upload')?.status).toBe('lost');
  });

  it('writes upload bytes to disk as they arrive, before the request ends', async () => {
    const pieces = 64;
    const piece = patternBytes(512 * KiB, 17);
    const uri = await sessionUri();
    const path = sessionOf(uri).bytes.path;
    let sizeOnDiskMidway = 0;
    async function* body() {
      for (let index = 0; index < pieces; index += 1) {
        if (index === pieces / 2) sizeOnDiskMidway = await grownSize(path);
        yield piece;
      }
    }
    const size = pieces * piece.length;

    const response = await fetch(uri, { method: 'PUT', headers: { 'content-range': `bytes 0-${size - 1}/${size}`, 'content-length': String(size) }, body: body(), duplex: 'half' } as RequestInit);

    expect(response.status).toBe(200);
    expect(sizeOnDiskMidway).toBeGreaterThan(0);
    expect(sizeOnDiskMidway).toBeLessThan(size);
    expect(sessionOf(uri).committed).toBe(size);
  });
});

describe('YouTube fake: resumable upload refusals', () => {
  it('refuses a chunk under 256 KiB that is not the last', async () => {
    const uri = await sessionUri();

    const response = await putChunk(uri, patternBytes(100 * KiB), 0, chunk * 2);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('required to be equal or greater than 262144');
    expect(sessionOf(uri).committed).toBe(0);
  });

  it('refuses a chunk that starts past the bytes kept', async () => {
    const uri = await sessionUri();

    const response = await putChunk(uri, patternBytes(chunk), chunk, chunk * 3);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('exceeds already uploaded size of 0 byte(s)');
  });

  it('refuses a total that differs from X-Upload-Content-Length', async () => {
    const uri = await sessionUri({ 'x-upload-content-length': '1000' });

    const response = await putChunk(uri, patternBytes(2000), 0, 2000);

    expect(response.status).toBe(400);
  });

  it('refuses an unparsable Content-Range', async () => {
    const uri = await sessionUri();

    const response = await fetch(uri, { method: 'PUT', headers: { 'content-range': 'bytes=0-9/10' }, body: patternBytes(10) });

    expect(response.status).toBe(400);
  });

  it('answers 404 on the URI of an expired session', async () => {
    const uri = await sessionUri();
    youtube.expireSession(sessionOf(uri).id);

    const response = await statusQuery(uri, 10);

    expect(response.status).toBe(404);
    expect((await errorOf(response)).reason).toBe('notFound');
  });

  it('answers 404 on an unknown session URI', async () => {
    const response = await statusQuery(`${youtube.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id=nope`, 10);

    expect(response.status).toBe(404);
  });
});

describe('YouTube fake: metadata', () => {
  it.each([
    ['a title over 100 characters', { snippet: { title: 'x'.repeat(101) } }, 'invalidTitle'],
    ['a title with < or >', { snippet: { title: 'a <b>' } }, 'invalidTitle'],
    ['an empty title', { snippet: { title: ' ' } }, 'invalidTitle'],
    ['a description over 5,000 bytes', { snippet: { title: 't', description: 'é'.repeat(2501) } }, 'invalidDescription'],
    ['a description with >', { snippet: { title: 't', description: 'a > b' } }, 'invalidDescription'],
    ['tags over 500 characters', { snippet: { title: 't', tags: Array.from({ length: 50 }, () => 'ten chars!') } }, 'invalidTags'],
    ['an unknown category', { snippet: { title: 't', categoryId: '999' } }, 'invalidCategoryId'],
    ['an unknown privacy status', { snippet: { title: 't' }, status: { privacyStatus: 'secret' } }, 'invalidVideoMetadata'],
  ])('refuses %s', async (_case, body, reason) => {
    const response = await initiate({ body });

    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({ code: 400, reason, domain: 'youtube.video' });
    expect(youtube.sessions.size).toBe(0);
  });

  it('accepts a title of exactly 100 characters and a description of exactly 5,000 bytes', async () => {
    const response = await initiate({ body: { snippet: { title: 'x'.repeat(100), description: 'é'.repeat(2500) } } });

    expect(response.status).toBe(200);
  });

  it('locks uploads of an unverified project private', async () => {
    await youtube.close();
    youtube = await startYouTubeFake({ unverifiedProject: true });
    youtube.tokens.grantAccess(token, { scopes: [youtubeScopes.upload] });
    const uri = await sessionUri();

    const response = await fetch(uri, { method: 'PUT', body: patternBytes(10) });

    expect(((await response.json()) as { status: { privacyStatus: string } }).status.privacyStatus).toBe('private');
  });
});

describe('YouTube fake: tokens', () => {
  it('refuses a request without a token with 401 required', async () => {
    const response = await initiate({ bearer: '' });

    expect(response.status).toBe(401);
    expect((await errorOf(response)).reason).toBe('required');
  });

  it('refuses an unknown token with 401 authError', async () => {
    const response = await initiate({ bearer: 'forged' });

    expect(response.status).toBe(401);
    expect((await errorOf(response)).reason).toBe('authError');
  });

  it('refuses an expired token with 401 authError', async () => {
    youtube.tokens.expire(token);

    const response = await initiate();

    expect(response.status).toBe(401);
    expect((await errorOf(response)).reason).toBe('authError');
  });

  it('refuses a token without an upload scope with 403 insufficientPermissions', async () => {
    youtube.tokens.grantAccess('read-only', { scopes: [youtubeScopes.readonly] });

    const response = await initiate({ bearer: 'read-only' });

    expect(response.status).toBe(403);
    expect((await errorOf(response)).reason).toBe('insufficientPermissions');
    expect(response.headers.get('www-authenticate')).toContain('insufficient_scope');
  });
});

describe('YouTube fake: OAuth token endpoint', () => {
  function refresh(fields: Record<string, string>): Promise<Response> {
    return fetch(`${youtube.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  }
  const grant = { grant_type: 'refresh_token', client_id: 'client', client_secret: 'secret', refresh_token: 'refresh-1' };

  it('exchanges a refresh token for an access token the API accepts', async () => {
    youtube.tokens.grantRefresh('refresh-1', { scopes: [youtubeScopes.upload], clientId: 'client' });

    const response = await refresh(grant);
    const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number; refresh_token?: string };
    const upload = await initiate({ bearer: body.access_token });

    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(body.refresh_token).toBeUndefined();
    expect(upload.status).toBe(200);
  });

  it('rotates a refresh token when told to, and refuses the old one with invalid_grant', async () => {
    youtube.tokens.grantRefresh('refresh-1', { scopes: [youtubeScopes.upload], rotate: true });

    const first = (await (await refresh(grant)).json()) as { refresh_token: string };
    const reused = await refresh(grant);
    const rotated = await refresh({ ...grant, refresh_token: first.refresh_token });

    expect(first.refresh_token).toMatch(/^refresh-/);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
    expect(rotated.status).toBe(200);
  });

  it('refuses an unknown refresh token with 400 invalid_grant', async () => {
    const response = await refresh(grant);

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    youtube.tokens.grantRefresh('refresh-1');

    const response = await refresh({ ...grant, client_secret: 'wrong' });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a grant type other than refresh_token and authorization_code', async () => {
    const response = await refresh({ ...grant, grant_type: 'password' });

    expect(await response.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  describe('authorization_code grant (the end of a consent flow)', () => {
    const verifier = 'a-code-verifier-of-enough-length-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const codeGrant = { grant_type: 'authorization_code', client_id: 'client', client_secret: 'secret', code: 'code-1', redirect_uri: 'http://127.0.0.1:5000/callback', code_verifier: verifier };

    beforeEach(() => {
      youtube.tokens.grantAuthorizationCode('code-1', { clientId: 'client', redirectUri: codeGrant.redirect_uri, codeChallenge: challenge, scopes: [youtubeScopes.upload] });
    });

    it('exchanges a code once for an access token and a refresh token that works', async () => {
      const body = (await (await refresh(codeGrant)).json()) as { access_token: string; refresh_token: string; scope: string };
      const again = await refresh(codeGrant);
      const refreshed = await refresh({ ...grant, refresh_token: body.refresh_token });

      expect(body.scope).toBe(youtubeScopes.upload);
      expect((await initiate({ bearer: body.access_token })).status).toBe(200);
      expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
      expect(refreshed.status).toBe(200);
    });

    it.each([
      ['another redirect URI', { redirect_uri: 'http://127.0.0.1:5001/callback' }],
      ['a wrong PKCE verifier', { code_verifier: 'not-the-verifier' }],
      ['an unknown code', { code: 'code-2' }],
    ])('refuses %s with invalid_grant', async (_case, change) => {
      const response = await refresh({ ...codeGrant, ...change });

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    });
  });
});

describe('YouTube fake: quota', () => {
  it('refuses an upload past the daily quota with 403 quotaExceeded', async () => {
    await youtube.close();
    youtube = await startYouTubeFake({ dailyUploadQuota: 1 });
    youtube.tokens.grantAccess(token, { scopes: [youtubeScopes.upload] });

    const first = await initiate();
    const second = await initiate();

    expect(first.status).toBe(200);
    expect(second.status).toBe(403);
    expect(await errorOf(second)).toEqual({ code: 403, reason: 'quotaExceeded', domain: 'youtube.quota' });
  });

  it('refuses an upload past the channel limit with 400 uploadLimitExceeded', async () => {
    youtube.quota.reachChannelUploadLimit();

    const response = await initiate();

    expect(response.status).toBe(400);
    expect((await errorOf(response)).reason).toBe('uploadLimitExceeded');
  });

  it('answers 403 rateLimitExceeded when rate limited, then accepts again', async () => {
    youtube.quota.rateLimitNext();

    const limited = await initiate();
    const next = await initiate();

    expect(await errorOf(limited)).toMatchObject({ code: 403, reason: 'rateLimitExceeded' });
    expect(next.status).toBe(200);
  });

  it('refuses other calls once their units are used up, until the quota resets', async () => {
    youtube.tokens.grantAccess('reader', { scopes: [youtubeScopes.readonly] });
    youtube.quota.exhaustUnits();

    const exhausted = await fetch(`${youtube.url}/youtube/v3/videos?id=x&part=id`, { headers: { authorization: 'Bearer reader' } });
    youtube.quota.reset();
    const reset = await fetch(`${youtube.url}/youtube/v3/videos?id=x&part=id`, { headers: { authorization: 'Bearer reader' } });

    expect((await errorOf(exhausted)).reason).toBe('quotaExceeded');
    expect(reset.status).toBe(200);
  });
});

describe('YouTube fake: metadata calls', () => {
  async function uploadVideo(): Promise<string> {
    const response = await fetch(await sessionUri(), { method: 'PUT', body: patternBytes(1000) });
    return ((await response.json()) as { id: string }).id;
  }

  beforeEach(() => {
    youtube.tokens.grantAccess('manager', { scopes: [youtubeScopes.manage] });
  });

  it('lists a created video by ID and nothing for an unknown ID', async () => {
    const id = await uploadVideo();

    const response = await fetch(`${youtube.url}/youtube/v3/videos?id=${id},unknown&part=snippet,status`, { headers: { authorization: 'Bearer manager' } });

    const body = (await response.json()) as { items: { id: string; snippet: { title: string } }[] };
    expect(body.items.map((item) => [item.id, item.snippet.title])).toEqual([[id, 'A render']]);
  });

  it('refuses to list videos with an upload-only token', async () => {
    const response = await fetch(`${youtube.url}/youtube/v3/videos?id=x&part=id`, { headers: { authorization: `Bearer ${token}` } });

    expect(response.status).toBe(403);
  });

  it('refuses a list without part with 400 required', async () => {
    const response = await fetch(`${youtube.url}/youtube/v3/videos?id=x`, { headers: { authorization: 'Bearer manager' } });

    expect(await errorOf(response)).toMatchObject({ code: 400, reason: 'required' });
  });

  it('answers the channel of the token to channels.list?mine=true', async () => {
    const response = await fetch(`${youtube.url}/youtube/v3/channels?mine=true&part=snippet`, { headers: { authorization: 'Bearer manager' } });

    expect(await response.json()).toMatchObject({ items: [{ id: 'UCfakeChannel0000000000', snippet: { title: 'Fake Channel' } }] });
  });

  it('adds a video to a playlist', async () => {
    const id = await uploadVideo();

    const response = await fetch(`${youtube.url}/youtube/v3/playlistItems?part=snippet`, {
      method: 'POST',
      headers: { authorization: 'Bearer manager', 'content-type': 'application/json' },
      body: JSON.stringify({ snippet: { playlistId: 'PLfake', resourceId: { kind: 'youtube#video', videoId: id } } }),
    });

    expect(await response.json()).toMatchObject({ kind: 'youtube#playlistItem', snippet: { playlistId: 'PLfake', position: 0, resourceId: { videoId: id } } });
    expect(youtube.playlists.get('PLfake')).toEqual([id]);
  });

  it('refuses an unknown playlist with 404 playlistNotFound', async () => {
    const id = await uploadVideo();

    const response = await fetch(`${youtube.url}/youtube/v3/playlistItems?part=snippet`, {
      method: 'POST',
      headers: { authorization: 'Bearer manager', 'content-type': 'application/json' },
      body: JSON.stringify({ snippet: { playlistId: 'PLnone', resourceId: { kind: 'youtube#video', videoId: id } } }),
    });

    expect(await errorOf(response)).toEqual({ code: 404, reason: 'playlistNotFound', domain: 'youtube.playlistItem' });
  });

  it('refuses an unknown video with 404 videoNotFound', async () => {
    const response = await fetch(`${youtube.url}/youtube/v3/playlistItems?part=snippet`, {
      method: 'POST',
      headers: { authorization: 'Bearer manager', 'content-type': 'application/json' },
      body: JSON.stringify({ snippet: { playlistId: 'PLfake', resourceId: { kind: 'youtube#video', videoId: 'none' } } }),
    });

    expect((await errorOf(response)).reason).toBe('videoNotFound');
  });

  it('refuses adding to a playlist with an upload-only token', async () => {
    const response = await fetch(`${youtube.url}/youtube/v3/playlistItems?part=snippet`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });

    expect(response.status).toBe(403);
  });
});

describe('YouTube fake: faults', () => {
  it('answers armed 503s with a Google error body, then serves the request', async () => {
    youtube.faults.failNext({ times: 2, status: 503, endpoint: 'videos.insert' });

    const statuses = [(await initiate()).status, (await initiate()).status, (await initiate()).status];

    expect(statuses).toEqual([503, 503, 200]);
    expect(youtube.requestCount('videos.insert')).toBe(3);
  });

  it('answers an armed throttle with 429 and Retry-After', async () => {
    youtube.faults.throttleNext({ retryAfterSeconds: 7 });

    const response = await initiate();

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect((await errorOf(response)).reason).toBe('rateLimitExceeded');
  });
});

describe('YouTube fake: cancelling and ordering within a session', () => {
  it('cancels an unfinished upload on DELETE with 499, dropping its bytes; the URI then answers 404', async () => {
    const file = patternBytes(2 * chunk, 14);
    const uri = await sessionUri();
    await putChunk(uri, file.subarray(0, chunk), 0, file.length);

    const cancelled = await fetch(uri, { method: 'DELETE' });
    const after = await statusQuery(uri, file.length);

    expect(cancelled.status).toBe(499);
    expect(after.status).toBe(404);
    expect(sessionOf(uri)).toMatchObject({ cancelled: true, videoId: undefined });
    expect(await sessionOf(uri).bytes.read()).toHaveLength(0);
  });

  it('keeps the video of a completed session on DELETE', async () => {
    const uri = await sessionUri();
    await putChunk(uri, patternBytes(100, 15), 0, 100);

    const response = await fetch(uri, { method: 'DELETE' });

    expect(response.status).toBe(200);
    expect(youtube.videos.size).toBe(1);
  });

  it("answers a session's requests one after another: a status query sent during a chunk answers what the chunk left", async () => {
    const file = patternBytes(2 * chunk, 16);
    const uri = await sessionUri();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(file.subarray(0, chunk / 2));
        await held;
        controller.enqueue(file.subarray(chunk / 2, chunk));
        controller.close();
      },
    });
    const sending = fetch(uri, { method: 'PUT', headers: { 'content-range': `bytes 0-${chunk - 1}/${file.length}`, 'content-length': String(chunk) }, body, duplex: 'half' } as RequestInit);
    while (!youtube.requests.some((request) => request.endpoint === 'upload')) await new Promise((resolve) => setTimeout(resolve, 5));

    const querying = statusQuery(uri, file.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const [sent, query] = await Promise.all([sending, querying]);

    expect(sent.status).toBe(308);
    expect(query.headers.get('range')).toBe(`bytes=0-${chunk - 1}`);
  });
});
