import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyFacebookError } from '../../functions/destinations/facebook/errors.ts';
import { GraphClient } from '../../functions/destinations/facebook/graph-client.ts';
import type { FacebookResumeState } from '../../functions/destinations/facebook/resume-state.ts';
import { facebookDestination, facebookDestinationSchema } from '../../functions/destinations/facebook/schema.ts';
import { facebookUploader } from '../../functions/destinations/facebook/upload.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import type { OutboundNetwork } from '../../shared/net/outbound-network.ts';
import { pageVideoPermissions, startFacebookFake, type FacebookFake, type GraphVideo } from '../fakes/facebook.ts';
import type { ByteRange } from '../fakes/stored-bytes.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { readBody, startTestServer, type TestServer } from '../support/http-servers.ts';
import { localNetwork } from '../support/network.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const KiB = 1024;
const pageId = '20000000000001';
const otherPageId = '20000000000002';
const pageToken = 'page-token-of-the-first-page';
const systemUserToken = 'system-user-token';
const chunkBytes = 256 * KiB;

const module = { definition: facebookDestination, uploader: facebookUploader };
let facebook: FacebookFake;

beforeEach(async () => {
  facebook = await startFacebookFake({
    pages: [
      { id: pageId, name: 'Renders' },
      { id: otherPageId, name: 'Other renders' },
    ],
    transferChunkBytes: chunkBytes,
  });
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(systemUserToken, { scopes: pageVideoPermissions });
});

afterEach(async () => {
  await facebook.close();
});

function destination(fields: Record<string, unknown>) {
  return facebookDestinationSchema.parse({ type: 'facebook', title: 'Welcome Video', description: 'A personalized welcome.', endpoint: facebook.url, ...fields });
}

function onlyVideo(): GraphVideo {
  expect(facebook.videos.size).toBe(1);
  return [...facebook.videos.values()][0]!;
}

/** Ranges that run from 0 to `length` without overlap: no byte was accepted twice, none is missing. */
function expectEachByteOnce(ranges: readonly ByteRange[], length: number): void {
  let end = 0;
  for (const range of ranges) {
    expect(range.start).toBe(end);
    end = range.end;
  }
  expect(end).toBe(length);
}

/** A resume slot that arms a fault on the fake the first time a given state is saved. */
class ArmingResume extends MemoryResume<FacebookResumeState> {
  #armed = false;

  public constructor(
    private readonly when: (state: FacebookResumeState) => boolean,
    private readonly arm: () => void,
  ) {
    super();
  }

  public override async save(state: FacebookResumeState): Promise<void> {
    await super.save(state);
    if (this.#armed || !this.when(state)) return;
    this.#armed = true;
    this.arm();
  }
}

/** The test network, but a Page's videos are read as a Graph error answer (`status`, `problem`). */
function answeringVideoListsWith(status: number, problem: Record<string, unknown>): OutboundNetwork {
  return {
    ...localNetwork,
    fetch: async (url, init) => {
      const listing = (init?.method ?? 'GET') === 'GET' && new URL(url).pathname.endsWith('/videos');
      return listing ? Response.json({ error: { ...problem, fbtrace_id: 'AbCdEfGhIjK' } }, { status }) : localNetwork.fetch(url, init);
    },
  };
}

/**
 * A proxy in front of the fake that breaks the connection of the `nth` request to a Page's videos
 * edge after `bytes` of its body, as a network failing mid-chunk: the fake sees the request end short.
 */
async function startChunkBreaker(nth: number, bytes: number): Promise<TestServer> {
  let seen = 0;
  return startTestServer((request, response) => {
    const target = new URL(request.url ?? '/', facebook.url);
    const breaking = request.method === 'POST' && target.pathname.endsWith('/videos') && (seen += 1) === nth;
    const upstream = httpRequest(target, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    let forwarded = 0;
    request.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (breaking && forwarded > bytes) {
        upstream.destroy();
        request.socket.destroy();
        return;
      }
      upstream.write(chunk);
    });
    request.on('end', () => upstream.end());
  });
}

describe('Facebook destination: what is published', () => {
  it("publishes the seeds' example with a Page token on the token's own Page, title and text as given", async () => {
    const bytes = patternBytes(700 * KiB, 3);

    const delivered = await attemptUpload(module, destination({ oauth_access_token: pageToken }), sourceOf(bytes, { name: 'welcome.mp4' }));

    const video = onlyVideo();
    expect(delivered.url).toBe(`https://www.facebook.com/${pageId}/videos/${video.id}`);
    expect(delivered.details).toMatchObject({ video_id: video.id, page_id: pageId, upload: 'page upload_phase' });
    expect(video).toMatchObject({ pageId, title: 'Welcome Video', description: 'A personalized welcome.', flow: 'upload-phase' });
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
    // Three chunks of the 256 KiB Facebook asked for, the last one short.
    expect(facebook.requests.filter((request) => request.endpoint === 'videos')).toHaveLength(5);
  });

  it('publishes through the Resumable Upload API on page_id with a system-user token, publishing with the Page token it obtains', async () => {
    const bytes = patternBytes(700 * KiB, 4);

    const delivered = await attemptUpload(module, destination({ oauth_access_token: systemUserToken, page_id: otherPageId }), sourceOf(bytes, { name: 'welcome.mp4' }));

    const video = onlyVideo();
    expect(video).toMatchObject({ pageId: otherPageId, flow: 'file-handle', title: 'Welcome Video' });
    expect(delivered.url).toBe(`https://www.facebook.com/${otherPageId}/videos/${video.id}`);
    expect(delivered.details).toMatchObject({ upload: 'resumable upload API' });
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
    const [session] = facebook.uploadSessions.values();
    expect(session).toMatchObject({ fileName: 'welcome.mp4', fileLength: bytes.length, fileType: 'video/mp4' });
    // The publish went out with the Page's own token, not the system user's.
    const publish = facebook.requests.find((request) => request.endpoint === 'videos');
    expect(publish?.headers.authorization).toMatch(/^OAuth page-/);
  });

  it("sends message, description and caption as the post's text, name only as the title it equals", async () => {
    await attemptUpload(
      module,
      destination({ oauth_access_token: pageToken, message: 'Hello Alex!', caption: 'Rendered for you', name: 'Welcome Video' }),
      sourceOf(patternBytes(10)),
    );

    const video = onlyVideo();
    expect(video.description).toBe('Hello Alex!\n\nA personalized welcome.\n\nRendered for you');
    expect(video.parameters).not.toHaveProperty('name');
    expect(video.parameters).not.toHaveProperty('message');
    expect(video.parameters).not.toHaveProperty('caption');
  });

  it('calls the api_version asked for, v24.0 by default', async () => {
    await attemptUpload(module, destination({ oauth_access_token: pageToken }), sourceOf(patternBytes(10)));
    await attemptUpload(module, destination({ oauth_access_token: pageToken, api_version: 'v21.0' }), sourceOf(patternBytes(10)));

    const versions = facebook.requests.map((request) => request.path.split('/')[1]);
    expect(new Set(versions)).toEqual(new Set(['v24.0', 'v21.0']));
    expect(versions.filter((version) => version === 'v21.0')).toHaveLength(versions.length / 2);
  });

  it('sends the token in the Authorization header only, never in a URL', async () => {
    await attemptUpload(module, destination({ oauth_access_token: systemUserToken, page_id: pageId }), sourceOf(patternBytes(10)));
    await attemptUpload(module, destination({ oauth_access_token: pageToken }), sourceOf(patternBytes(10)));

    expect(facebook.requests.length).toBeGreaterThan(8);
    for (const request of facebook.requests) {
      expect(`${request.path}?${request.query}`).not.toMatch(/page-|system-user-token|access_token=/);
      expect(request.headers.authorization).toMatch(/^OAuth /);
    }
  });
});

describe('Facebook destination: targets it refuses', () => {
  it('refuses a person\'s token without page_id before uploading anything: Meta removed publishing on profiles', async () => {
    const error = await attemptFailure(module, destination({ oauth_access_token: systemUserToken }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'ProfileNotSupported', message: expect.stringMatching(/^page_id: .*personal profiles/) });
    expect(facebook.requests.map((request) => request.endpoint)).toEqual(['me']);
  });

  it("refuses a Page token aimed at another Page, naming both", async () => {
    const error = await attemptFailure(module, destination({ oauth_access_token: pageToken, page_id: otherPageId }), sourceOf(patternBytes(10)));

    expect(error).toMatchObject({ code: 'PageTokenMismatch', retryable: false, message: expect.stringContaining(`'Renders' (${pageId})`) });
    expect(facebook.videos.size).toBe(0);
  });

  it('refuses a Page that does not exist as page_id', async () => {
    const error = await attemptFailure(module, destination({ oauth_access_token: systemUserToken, page_id: '99999' }), sourceOf(patternBytes(10)));

    expect(error).toMatchObject({ code: 'PageNotFound', retryable: false, message: expect.stringMatching(/^page_id: /) });
  });

  it('refuses an empty file and a source of unknown size before calling Facebook', async () => {
    const empty = await attemptFailure(module, destination({ oauth_access_token: pageToken }), sourceOf(Buffer.alloc(0)));
    const unsized = await attemptFailure(module, destination({ oauth_access_token: pageToken }), sourceOf(patternBytes(10), { size: undefined }));

    expect(empty).toMatchObject({ code: 'EmptyFile', retryable: false });
    expect(unsized).toMatchObject({ code: 'SizeUnknown', retryable: false });
    expect(facebook.requests).toEqual([]);
  });
});

describe('Facebook destination: Graph errors', () => {
  it('fails for good on an expired token (190/463) and an unknown one (190), saying what to do', async () => {
    facebook.tokens.grantAccess('stale', { subject: pageId, scopes: pageVideoPermissions });
    facebook.tokens.expire('stale');

    const expired = await attemptFailure(module, destination({ oauth_access_token: 'stale' }), sourceOf(patternBytes(10)));
    const unknown = await attemptFailure(module, destination({ oauth_access_token: 'forged' }), sourceOf(patternBytes(10)));

    expect(expired).toMatchObject({ code: 'TokenExpired', retryable: false, message: expect.stringMatching(/^oauth_access_token: the token has expired \(Graph 190\/463\)/) });
    expect(unknown).toMatchObject({ code: 'TokenInvalid', retryable: false });
    expect(expired.message).not.toContain('stale');
  });

  it('fails for good when the Page token lacks a permission (200), naming the permissions', async () => {
    facebook.tokens.grantAccess('thin', { subject: pageId, scopes: ['pages_show_list'] });

    const error = await attemptFailure(module, destination({ oauth_access_token: 'thin' }), sourceOf(patternBytes(10)));

    expect(error).toMatchObject({ code: 'PermissionDenied', retryable: false, message: expect.stringContaining('pages_manage_posts') });
  });

  it('classifies code 10 (an upload session opened with a Page token) as a permanent app permission problem', async () => {
    const graph = new GraphClient({ endpoint: facebook.url, version: 'v24.0', network: localNetwork, signal: new AbortController().signal });

    const refused = await graph.postForm(`${facebook.appId}/uploads`, pageToken, new URLSearchParams({ file_name: 'a.mp4', file_length: '10', file_type: 'video/mp4' })).catch((error: unknown) => error);

    expect(classifyFacebookError(refused)).toMatchObject({ code: 'AppPermissionDenied', retryable: false, message: expect.stringContaining('Administrator or Developer role') });
  });

  it.each([4, 17, 32, 613])('retries a rate limit (code %i) later', async (code) => {
    facebook.faults.throttleNext({ code, endpoint: 'videos' });

    const error = await attemptFailure(module, destination({ oauth_access_token: pageToken }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'RateLimited', message: expect.stringContaining(`Graph ${code}`) });
  });

  it('waits as long as the usage header says a throttled Page regains access', async () => {
    const throttling: TestServer = await startTestServer((_request, response) => {
      response.writeHead(400, {
        'content-type': 'application/json',
        'x-business-use-case-usage': JSON.stringify({ [pageId]: [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 7 }] }),
      });
      response.end(JSON.stringify({ error: { message: '(#32) Page request limit reached', code: 32, is_transient: true } }));
    });
    try {
      const error = await attemptFailure(module, destination({ oauth_access_token: pageToken, endpoint: throttling.url }), sourceOf(patternBytes(10)));

      expect(error).toMatchObject({ code: 'RateLimited', retryAfterSeconds: 420 });
    } finally {
      await throttling.close();
    }
  });

  it('keeps the token out of an error, even when the server echoes it', async () => {
    const echoing = await startTestServer((request, response) => {
      response.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway for ${request.headers.authorization}`);
    });
    try {
      const error = await attemptFailure(module, destination({ oauth_access_token: pageToken, endpoint: echoing.url }), sourceOf(patternBytes(10)));

      expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('bad gateway for OAuth [token]') });
      expect(JSON.stringify({ message: error.message, cause: (error.cause as Error).message })).not.toContain(pageToken);
    } finally {
      await echoing.close();
    }
  });

  it('retries a server error (5xx, codes 1 and 2)', async () => {
    facebook.faults.failNext({ status: 503, endpoint: 'me' });

    const error = await attemptFailure(module, destination({ oauth_access_token: pageToken }), sourceOf(patternBytes(10)));

    expect(error).toMatchObject({ code: 'GraphTemporary', retryable: true });
  });
});

describe('Facebook destination: the Resumable Upload API across attempts', () => {
  it('continues after the connection dropped mid-upload, from the offset Facebook confirms: no byte twice, one video', async () => {
    const bytes = patternBytes(3 * 1024 * KiB + 5, 7);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.dropConnectionAfter(1234 * KiB, { endpoint: 'uploads.transfer' });

    const first = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    const [session] = facebook.uploadSessions.values();
    expectEachByteOnce(session!.bytes.acceptedRanges, bytes.length);
    expect(session!.bytes.bytesReceived).toBe(bytes.length);
    expect(delivered.details).toMatchObject({ resumed_at: 1234 * KiB });
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
    expect(facebook.requests.filter((request) => request.endpoint === 'uploads.status')).toHaveLength(1);
  });

  it('continues an upload its signal aborted, in the next attempt', async () => {
    const bytes = patternBytes(4 * 1024 * KiB, 8);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    const controller = new AbortController();
    const source = sourceOf(bytes);
    const watcher = setInterval(() => {
      if (source.position > bytes.length / 2) controller.abort();
    }, 2);

    const first = await attemptFailure(module, fields, source, { resume, signal: controller.signal }).finally(() => clearInterval(watcher));
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(resume.state).toMatchObject({ flow: 'resumable', session: expect.stringMatching(/^upload:.+\?sig=/) });
    expect(Number(delivered.details?.resumed_at)).toBeGreaterThan(0);
    expectEachByteOnce([...facebook.uploadSessions.values()][0]!.bytes.acceptedRanges, bytes.length);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('ends the attempt on a 1363037 after a stale status, and the next one goes on from where Facebook stands', async () => {
    const bytes = patternBytes(2 * 1024 * KiB, 9);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.dropConnectionAfter(1000 * KiB, { endpoint: 'uploads.transfer' });
    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    // A status answered from a replica that has not yet seen the broken request's bytes.
    const stale = await startTestServer(async (request, response) => {
      const body = await readBody(request);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'connection')) as Record<string, string>;
      const upstream = await fetch(`${facebook.url}${request.url}`, { method: request.method, headers, ...(request.method === 'POST' ? { body } : {}) });
      const text = await upstream.text();
      const isStatus = request.method === 'GET' && request.url?.includes('upload:');
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(isStatus ? JSON.stringify({ ...JSON.parse(text), file_offset: 0 }) : text);
    });

    const misled = await attemptFailure(module, { ...fields, endpoint: stale.url }, sourceOf(bytes), { resume }).finally(() => stale.close());
    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(misled).toMatchObject({ code: 'UploadOffsetMismatch', retryable: true });
    const session = [...facebook.uploadSessions.values()][0]!;
    expectEachByteOnce(session.bytes.acceptedRanges, bytes.length);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('opens a new session when the saved one expired (1363030), and publishes one video', async () => {
    const bytes = patternBytes(1024 * KiB, 10);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.dropConnectionAfter(300 * KiB, { endpoint: 'uploads.transfer' });
    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    facebook.expireSession((resume.state as { session: string }).session);

    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(facebook.uploadSessions.size).toBe(2);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('finds the video a publish made when its answer was lost, and does not publish it again', async () => {
    const bytes = patternBytes(100 * KiB, 11);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.loseNextAnswer({ endpoint: 'videos' });

    const lost = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(lost).toMatchObject({ code: 'PublishUnconfirmed', retryable: true });
    expect(facebook.videos.size).toBe(1);
    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id });
    expect(facebook.requestCount('videos')).toBe(1);
    expect(facebook.requestCount('videos.list')).toBe(1);
  });

  it('publishes again when the publish whose answer was lost made no video', async () => {
    const bytes = patternBytes(100 * KiB, 13);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    // The publish breaks on its way, before Graph has read it whole.
    facebook.faults.dropConnectionAfter(10, { endpoint: 'videos' });

    const broken = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(broken).toMatchObject({ code: 'PublishUnconfirmed', retryable: true });
    expect(facebook.requestCount('videos.list')).toBe(1);
    expect(facebook.videos.size).toBe(1);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it("fails for good, publishing nothing again, when the Page's videos may not be read after a lost answer", async () => {
    const bytes = patternBytes(100 * KiB, 14);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.loseNextAnswer({ endpoint: 'videos' });
    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const refused = { code: 200, type: 'OAuthException', message: '(#200) Requires pages_read_engagement permission to read the Page videos' };

    const unread = await attemptFailure(module, fields, sourceOf(bytes), { resume, network: answeringVideoListsWith(403, refused) });

    expect(unread).toMatchObject({ code: 'PublishUnconfirmed', retryable: false });
    expect(facebook.videos.size).toBe(1);
    expect(facebook.requestCount('videos')).toBe(1);
  });

  it("looks again in the next attempt, publishing nothing again, when reading the Page's videos failed for now after a lost answer", async () => {
    const bytes = patternBytes(100 * KiB, 19);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.loseNextAnswer({ endpoint: 'videos' });
    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    facebook.faults.failNext({ status: 500, endpoint: 'videos.list' });

    const unread = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(unread).toBeInstanceOf(TransientError);
    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id });
    expect(facebook.requestCount('videos')).toBe(1);
    expect(facebook.requestCount('videos.list')).toBe(2);
  });

  it.each([502, 504])('looks for the video before publishing again when a gateway answered the publish %i: the publish may have made it', async (status) => {
    const bytes = patternBytes(100 * KiB, 20);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    // Graph made the video, but the gateway in front of it gave up waiting and answered for it.
    const gateway: OutboundNetwork = {
      ...localNetwork,
      fetch: async (url, init) => {
        const answer = await localNetwork.fetch(url, init);
        if (init?.method !== 'POST' || !new URL(url).pathname.endsWith(`/${pageId}/videos`)) return answer;
        await answer.arrayBuffer();
        return new Response('<html><body>Bad gateway</body></html>', { status, headers: { 'content-type': 'text/html' } });
      },
    };

    const ambiguous = await attemptFailure(module, fields, sourceOf(bytes), { resume, network: gateway });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(ambiguous).toMatchObject({ code: 'PublishUnconfirmed', retryable: true });
    expect(facebook.videos.size).toBe(1);
    expect(delivered.details).toMatchObject({ video_id: onlyVideo().id });
    expect(facebook.requestCount('videos')).toBe(1);
    expect(facebook.requestCount('videos.list')).toBe(1);
  });

  it('publishes again after a publish Facebook answered with an error, without uploading again', async () => {
    const bytes = patternBytes(100 * KiB, 12);
    const fields = destination({ oauth_access_token: systemUserToken, page_id: pageId });
    const resume = new MemoryResume<FacebookResumeState>();
    facebook.faults.failNext({ status: 500, endpoint: 'videos' });

    const failed = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(failed).toBeInstanceOf(TransientError);
    expect(facebook.requestCount('uploads.transfer')).toBe(1);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });
});

describe('Facebook destination: the Page upload_phase flow across attempts', () => {
  it('continues after a chunk broke off, from the last chunk Facebook confirmed: no byte twice, one video', async () => {
    const bytes = patternBytes(5 * chunkBytes + 3, 13);
    const resume = new MemoryResume<FacebookResumeState>();
    // Requests to the videos edge: start, then transfers; the third transfer breaks off half-way.
    const breaker = await startChunkBreaker(4, chunkBytes / 2);

    const first = await attemptFailure(module, destination({ oauth_access_token: pageToken, endpoint: breaker.url }), sourceOf(bytes), { resume }).finally(() => breaker.close());
    const delivered = await attemptUpload(module, destination({ oauth_access_token: pageToken }), sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(delivered.details).toMatchObject({ resumed_at: 2 * chunkBytes });
    const video = onlyVideo();
    expectEachByteOnce(video.bytes.acceptedRanges, bytes.length);
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
  });

  it('continues an upload its signal aborted, in the next attempt, from the last chunk Facebook confirmed', async () => {
    const bytes = patternBytes(12 * chunkBytes + 9, 17);
    const fields = destination({ oauth_access_token: pageToken });
    const resume = new MemoryResume<FacebookResumeState>();
    const controller = new AbortController();
    const source = sourceOf(bytes);
    const watcher = setInterval(() => {
      if (source.position > bytes.length / 2) controller.abort();
    }, 2);

    const first = await attemptFailure(module, fields, source, { resume, signal: controller.signal }).finally(() => clearInterval(watcher));
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(Number(delivered.details?.resumed_at)).toBeGreaterThanOrEqual(chunkBytes);
    const video = onlyVideo();
    expectEachByteOnce(video.bytes.acceptedRanges, bytes.length);
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
  });

  it('moves on to the offset a 1363037 names after a transfer whose answer was lost', async () => {
    const bytes = patternBytes(4 * chunkBytes, 14);
    const fields = destination({ oauth_access_token: pageToken });
    // The answer to the first transfer is lost, though Facebook kept its chunk.
    const resume = new ArmingResume(
      (state) => state.flow === 'upload-phase' && state.startOffset === 0,
      () => facebook.faults.loseNextAnswer({ endpoint: 'videos' }),
    );

    const first = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(first).toBeInstanceOf(TransientError);
    // The chunk sent again at byte 0 was refused with the offset to go on from, and kept once.
    expect(facebook.requests.filter((request) => request.endpoint === 'videos' && request.status === 400)).toHaveLength(1);
    const video = onlyVideo();
    expect(delivered.details).toMatchObject({ video_id: video.id });
    expectEachByteOnce(video.bytes.acceptedRanges, bytes.length);
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
  });

  it('finishes again, making no second video, when the answer to the finish was lost', async () => {
    const bytes = patternBytes(chunkBytes + 1, 15);
    const fields = destination({ oauth_access_token: pageToken });
    const resume = new ArmingResume(
      (state) => state.flow === 'upload-phase' && state.startOffset === state.fileSize,
      () => facebook.faults.loseNextAnswer({ endpoint: 'videos' }),
    );

    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    const video = onlyVideo();
    expect(delivered.details).toMatchObject({ video_id: video.id });
    expect(await video.bytes.sha256()).toBe(sha256(bytes));
  });

  it('starts a new session when the saved one expired (1363030): the next attempt sends the file to it', async () => {
    const bytes = patternBytes(3 * chunkBytes, 16);
    const fields = destination({ oauth_access_token: pageToken });
    const resume = new MemoryResume<FacebookResumeState>();
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: 2 * chunkBytes }), { resume });
    const expired = resume.state as { sessionId: string };
    facebook.expireSession(expired.sessionId);

    const second = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(second).toMatchObject({ code: 'UploadSessionExpired', retryable: true });
    expect(facebook.transferSessions.size).toBe(2);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('starts a new session when the saved one expired (1363030) after every byte was up, before its finish', async () => {
    const bytes = patternBytes(2 * chunkBytes, 18);
    const fields = destination({ oauth_access_token: pageToken });
    const resume = new ArmingResume(
      (state) => state.flow === 'upload-phase' && state.startOffset === state.fileSize,
      () => facebook.faults.failNext({ endpoint: 'videos', status: 503 }),
    );
    await attemptFailure(module, fields, sourceOf(bytes), { resume });
    facebook.expireSession((resume.state as { sessionId: string }).sessionId);

    const second = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    await attemptUpload(module, fields, sourceOf(bytes), { resume });

    expect(second).toMatchObject({ code: 'UploadSessionExpired', retryable: true });
    expect(facebook.transferSessions.size).toBe(2);
    expect(await onlyVideo().bytes.sha256()).toBe(sha256(bytes));
  });

  it('cancels the session when the delivery is discarded', async () => {
    const fields = destination({ oauth_access_token: pageToken });
    const resume = new MemoryResume<FacebookResumeState>();
    await attemptFailure(module, fields, sourceOf(patternBytes(3 * chunkBytes), { failsAt: chunkBytes }), { resume });

    await facebookUploader.discard!({ destination: fields, state: resume.state!, signal: new AbortController().signal, network: localNetwork });

    expect(facebook.transferSessions.size).toBe(0);
    expect(facebook.videos.size).toBe(0);
  });
});
