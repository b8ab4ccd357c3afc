import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patternBytes, sha256 } from '../support/sources.ts';
import { type FacebookFake, pageVideoPermissions, startFacebookFake } from './facebook.ts';

const KiB = 1024;
const pageId = '20000000000001';
const userToken = 'user-token';
const pageToken = 'page-token';

let facebook: FacebookFake;

beforeEach(async () => {
  facebook = await startFacebookFake({ transferChunkBytes: 64 * KiB });
  facebook.tokens.grantAccess(userToken);
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
});

afterEach(async () => {
  await facebook.close();
});

function graph(path: string): string {
  return `${facebook.url}/v21.0${path}`;
}

async function json(response: Response): Promise<any> {
  return response.json();
}

async function graphError(response: Response): Promise<{ status: number; code: number; subcode?: number; data?: unknown; type: string }> {
  const { error } = await json(response);
  return { status: response.status, code: error.code, subcode: error.error_subcode, data: error.error_data, type: error.type };
}

function startUpload(query: Record<string, string> = {}): Promise<Response> {
  const parameters = new URLSearchParams({ file_name: 'clip.mp4', file_length: '1000', file_type: 'video/mp4', access_token: userToken, ...query });
  return fetch(graph(`/${facebook.appId}/uploads?${parameters}`), { method: 'POST' });
}

async function uploadSessionId(fileLength: number): Promise<string> {
  const response = await startUpload({ file_length: String(fileLength) });
  expect(response.status).toBe(200);
  return ((await json(response)) as { id: string }).id;
}

function sendBytes(id: string, offset: number, bytes: Buffer, token = userToken): Promise<Response> {
  return fetch(graph(`/${id}`), { method: 'POST', headers: { authorization: `OAuth ${token}`, file_offset: String(offset) }, body: bytes });
}

function uploadStatus(id: string): Promise<Response> {
  return fetch(graph(`/${id}`), { headers: { authorization: `OAuth ${userToken}` } });
}

function postVideo(fields: Record<string, string | Blob>, target = pageId, version = '/v21.0'): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ access_token: pageToken, ...fields })) form.append(name, value);
  return fetch(`${facebook.url}${version}/${target}/videos`, { method: 'POST', body: form });
}

describe('Facebook fake: Resumable Upload API', () => {
  it('takes a file, answers its handle, publishes it on the Page and reads the video back', async () => {
    const bytes = patternBytes(200 * KiB, 3);
    const id = await uploadSessionId(bytes.length);

    const uploaded = await json(await sendBytes(id, 0, bytes));
    const published = await json(await postVideo({ fbuploader_video_file_chunk: uploaded.h, title: 'A render', description: 'From the pipeline' }));
    const read = await json(await fetch(graph(`/${published.id}?fields=title,description,permalink_url&access_token=${pageToken}`)));

    expect(id).toMatch(/^upload:[^?]+\?sig=/);
    expect(uploaded.h).toMatch(/^4:/);
    expect(read).toEqual({ id: published.id, title: 'A render', description: 'From the pipeline', permalink_url: `/${pageId}/videos/${published.id}/` });
    expect(await facebook.videos.get(published.id)?.bytes.sha256()).toBe(sha256(bytes));
    expect(facebook.videos.size).toBe(1);
  });

  it('takes a file in two requests, answering the offset after the first', async () => {
    const bytes = patternBytes(100 * KiB, 5);
    const id = await uploadSessionId(bytes.length);

    const first = await json(await sendBytes(id, 0, bytes.subarray(0, 30 * KiB)));
    const second = await json(await sendBytes(id, 30 * KiB, bytes.subarray(30 * KiB)));

    expect(first).toEqual({ id, file_offset: 30 * KiB });
    expect(second.h).toBeDefined();
    expect(await facebook.uploadSessions.get(id)?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('keeps the bytes received before a dropped connection and resumes at the offset the status gives', async () => {
    const bytes = patternBytes(300 * KiB, 7);
    const id = await uploadSessionId(bytes.length);
    facebook.faults.dropConnectionAfter(123_456, { endpoint: 'uploads.transfer' });

    await expect(sendBytes(id, 0, bytes)).rejects.toThrow();
    const status = await json(await uploadStatus(id));
    const resumed = await sendBytes(id, status.file_offset, bytes.subarray(status.file_offset));

    expect(status).toEqual({ id, file_offset: 123_456 });
    expect((await json(resumed)).h).toBeDefined();
    const session = facebook.uploadSessions.get(id);
    expect(await session?.bytes.sha256()).toBe(sha256(bytes));
    expect(session?.bytes.acceptedRanges).toEqual([
      { start: 0, end: 123_456 },
      { start: 123_456, end: bytes.length },
    ]);
    expect(session?.bytes.bytesReceived).toBe(bytes.length);
  });

  it('refuses bytes at the wrong file_offset with 1363037 and the offset to resume at', async () => {
    const id = await uploadSessionId(1000);
    await sendBytes(id, 0, patternBytes(100));

    const response = await sendBytes(id, 0, patternBytes(100));

    expect(await graphError(response)).toMatchObject({ status: 400, code: 6001, subcode: 1363037, data: { start_offset: 100, end_offset: 1000 } });
  });

  it('refuses more bytes than file_length', async () => {
    const id = await uploadSessionId(100);

    const response = await sendBytes(id, 0, patternBytes(101));

    expect(await graphError(response)).toMatchObject({ status: 400, code: 100 });
    expect(facebook.uploadSessions.get(id)?.offset).toBe(0);
  });

  it('times out an expired session with 1363030', async () => {
    const id = await uploadSessionId(1000);
    facebook.expireSession(id);

    const status = await uploadStatus(id);
    const transfer = await sendBytes(id, 0, patternBytes(10));

    expect(await graphError(status)).toMatchObject({ code: 6000, subcode: 1363030 });
    expect(await graphError(transfer)).toMatchObject({ code: 6000, subcode: 1363030 });
  });

  it('refuses a session whose signature is missing as an unknown object', async () => {
    const id = await uploadSessionId(1000);

    const response = await fetch(graph(`/${id.split('?')[0]}`), { headers: { authorization: `OAuth ${userToken}` } });

    expect(await graphError(response)).toEqual({ status: 400, code: 100, subcode: 33, data: undefined, type: 'GraphMethodException' });
  });

  it('answers a status asked while a transfer is still arriving once that transfer is done, one writer per session', async () => {
    const id = await uploadSessionId(200);
    let release = (): void => undefined;
    const halfway = new Promise<void>((resolve) => {
      release = resolve;
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(patternBytes(100, 1));
        await halfway;
        controller.enqueue(patternBytes(100, 2));
        controller.close();
      },
    });
    const transfer = fetch(graph(`/${id}`), { method: 'POST', headers: { authorization: `OAuth ${userToken}`, file_offset: '0', 'content-length': '200' }, body, duplex: 'half' } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const status = uploadStatus(id).then((response) => json(response));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();

    expect((await json(await transfer)).h).toBeDefined();
    expect(await status).toEqual({ id, file_offset: 200 });
  });

  it.each([
    ['another app', { app: '999' }, 100],
    ['no file_length', { file_length: '' }, 100],
    ['a file type it does not take', { file_type: 'video/quicktime' }, 100],
    ['a Page token', { access_token: pageToken }, 10],
  ])('refuses to open a session for %s', async (_case, query, code) => {
    const { app, ...parameters } = query as Record<string, string>;
    const response = app ? await fetch(graph(`/${app}/uploads?access_token=${userToken}&file_length=10&file_type=video/mp4&file_name=a.mp4`), { method: 'POST' }) : await startUpload(parameters);

    expect((await graphError(response)).code).toBe(code);
  });
});

describe('Facebook fake: publishing', () => {
  it('refuses an unknown file handle', async () => {
    const response = await postVideo({ fbuploader_video_file_chunk: '4:bogus' });

    expect(await graphError(response)).toMatchObject({ status: 400, code: 100 });
  });

  it('refuses a Page it does not know as an unsupported request', async () => {
    const response = await postVideo({ fbuploader_video_file_chunk: '4:bogus' }, '999', '');

    expect(await graphError(response)).toMatchObject({ code: 100, subcode: 33 });
  });

  it('refuses a Page token missing a permission with 403 code 200', async () => {
    facebook.tokens.grantAccess('thin', { subject: pageId, scopes: ['pages_show_list'] });

    const response = await postVideo({ access_token: 'thin', fbuploader_video_file_chunk: '4:x' });

    expect(await graphError(response)).toMatchObject({ status: 403, code: 200 });
  });

  it('refuses a user token on a Page with 403 code 200', async () => {
    facebook.tokens.grantAccess('person', { scopes: pageVideoPermissions });

    const response = await postVideo({ access_token: 'person', fbuploader_video_file_chunk: '4:x' });

    expect(await graphError(response)).toMatchObject({ status: 403, code: 200 });
  });
});

describe("Facebook fake: a Page's videos", () => {
  it('lists them newest first with the fields asked, since a time, for a Page token with pages_read_engagement only', async () => {
    // Prepare: two videos, made through the upload_phase flow.
    const since = Math.floor(Date.now() / 1000);
    for (const title of ['first', 'second']) {
      const { video_id, upload_session_id } = await json(await postVideo({ upload_phase: 'start', file_size: '1' }));
      await postVideo({ upload_phase: 'transfer', upload_session_id, start_offset: '0', video_file_chunk: new Blob([Buffer.from('x')]) });
      await postVideo({ upload_phase: 'finish', upload_session_id, title });
      expect(video_id).toEqual(expect.any(String));
    }
    facebook.tokens.grantAccess('no-reading', { subject: pageId, scopes: ['pages_show_list', 'pages_manage_posts'] });

    // Act
    const listed = await json(await fetch(graph(`/${pageId}/videos?fields=title,created_time&since=${since}&access_token=${pageToken}`)));
    const later = await json(await fetch(graph(`/${pageId}/videos?since=${since + 3600}&access_token=${pageToken}`)));
    const refused = await fetch(graph(`/${pageId}/videos?access_token=no-reading`));

    // Assess
    expect(listed.data.map((video: { title: string }) => video.title).slice(0, 2)).toEqual(['second', 'first']);
    expect(listed.data[0]).toEqual({ id: expect.any(String), title: 'second', created_time: expect.stringMatching(/\+0000$/) });
    expect(later.data).toEqual([]);
    expect(await graphError(refused)).toMatchObject({ status: 403, code: 200 });
  });
});

describe('Facebook fake: Page access tokens', () => {
  it("gives a person a Page token on the Page's access_token field, carrying the person's permissions", async () => {
    facebook.tokens.grantAccess('admin', { scopes: pageVideoPermissions });
    const page = await json(await fetch(graph(`/${pageId}?fields=name,access_token`), { headers: { authorization: 'OAuth admin' } }));

    const published = await postVideo({ access_token: page.access_token, upload_phase: 'start', file_size: '10' });

    expect(page).toMatchObject({ id: pageId, name: 'Fake Page', access_token: expect.stringMatching(/^page-/) });
    expect(published.status).toBe(200);
  });

  it('gives a Page token its own Page only', async () => {
    const own = await json(await fetch(graph(`/${pageId}?fields=access_token&access_token=${pageToken}`)));
    const other = await fetch(graph(`/20000000000009?fields=access_token&access_token=${pageToken}`));

    expect(own.access_token).toBe(pageToken);
    expect(await graphError(other)).toMatchObject({ code: 100, subcode: 33 });
  });
});

describe('Facebook fake: upload_phase flow', () => {
  async function start(fileSize: number): Promise<{ video_id: string; upload_session_id: string; start_offset: string; end_offset: string }> {
    return json(await postVideo({ upload_phase: 'start', file_size: String(fileSize) }));
  }

  function transfer(sessionId: string, startOffset: number, chunk: Buffer): Promise<Response> {
    return postVideo({ upload_phase: 'transfer', upload_session_id: sessionId, start_offset: String(startOffset), video_file_chunk: new Blob([chunk]) });
  }

  it('takes chunks at the offsets it asks for and publishes the video on finish', async () => {
    const bytes = patternBytes(150 * KiB, 9);
    const started = await start(bytes.length);
    const offsets: [string, string][] = [[started.start_offset, started.end_offset]];

    while (offsets.at(-1)?.[0] !== offsets.at(-1)?.[1]) {
      const [startOffset, endOffset] = (offsets.at(-1) ?? []).map(Number) as [number, number];
      const answer = await json(await transfer(started.upload_session_id, startOffset, bytes.subarray(startOffset, endOffset)));
      offsets.push([answer.start_offset, answer.end_offset]);
    }
    const finished = await json(await postVideo({ upload_phase: 'finish', upload_session_id: started.upload_session_id, title: 'Chunked' }));

    expect(offsets).toEqual([
      ['0', String(64 * KiB)],
      [String(64 * KiB), String(128 * KiB)],
      [String(128 * KiB), String(150 * KiB)],
      [String(150 * KiB), String(150 * KiB)],
    ]);
    expect(finished).toEqual({ success: true });
    const video = facebook.videos.get(started.video_id);
    expect(video?.title).toBe('Chunked');
    expect(await video?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('refuses a chunk at the wrong start_offset, or past end_offset, with 1363037', async () => {
    const started = await start(200 * KiB);

    const wrongStart = await transfer(started.upload_session_id, 10, patternBytes(10));
    const tooLong = await transfer(started.upload_session_id, 0, patternBytes(64 * KiB + 1));

    expect(await graphError(wrongStart)).toMatchObject({ code: 6001, subcode: 1363037, data: { start_offset: 0, end_offset: 64 * KiB } });
    expect((await graphError(tooLong)).subcode).toBe(1363037);
  });

  it('keeps nothing of a chunk whose connection broke, and takes it again', async () => {
    const bytes = patternBytes(100 * KiB, 11);
    const started = await start(bytes.length);
    facebook.faults.dropConnectionAfter(10 * KiB, { endpoint: 'videos' });

    await expect(transfer(started.upload_session_id, 0, bytes.subarray(0, 64 * KiB))).rejects.toThrow();
    const retried = await json(await transfer(started.upload_session_id, 0, bytes.subarray(0, 64 * KiB)));

    expect(retried.start_offset).toBe(String(64 * KiB));
  });

  it('refuses to finish before every byte arrived', async () => {
    const started = await start(100 * KiB);

    const response = await postVideo({ upload_phase: 'finish', upload_session_id: started.upload_session_id });

    expect(await graphError(response)).toMatchObject({ code: 6001, subcode: 1363037 });
  });

  it('answers a resent finish with success and makes one video', async () => {
    const started = await start(100);
    await transfer(started.upload_session_id, 0, patternBytes(100));
    facebook.faults.loseNextAnswer({ endpoint: 'videos' });

    await expect(postVideo({ upload_phase: 'finish', upload_session_id: started.upload_session_id })).rejects.toThrow();
    const resent = await postVideo({ upload_phase: 'finish', upload_session_id: started.upload_session_id });

    expect(await json(resent)).toEqual({ success: true });
    expect([...facebook.videos.keys()]).toEqual([started.video_id]);
  });

  it('takes one of two transfers sent at once at the same offset, and refuses the other with 1363037', async () => {
    const started = await start(200 * KiB);
    const chunk = patternBytes(64 * KiB, 3);

    const answers = await Promise.all([transfer(started.upload_session_id, 0, chunk), transfer(started.upload_session_id, 0, chunk)]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(facebook.transferSessions.get(started.upload_session_id)?.bytes.acceptedRanges).toEqual([{ start: 0, end: 64 * KiB }]);
  });

  it('drops a cancelled session and its bytes', async () => {
    const started = await start(100);
    await transfer(started.upload_session_id, 0, patternBytes(50));

    const cancelled = await postVideo({ upload_phase: 'cancel', upload_session_id: started.upload_session_id });
    const after = await transfer(started.upload_session_id, 50, patternBytes(50));

    expect(await json(cancelled)).toEqual({ success: true });
    expect(facebook.transferSessions.has(started.upload_session_id)).toBe(false);
    expect(await graphError(after)).toMatchObject({ code: 100 });
  });

  it('times out an expired session with 1363030', async () => {
    const started = await start(100);
    facebook.expireSession(started.upload_session_id);

    const response = await transfer(started.upload_session_id, 0, patternBytes(100));

    expect(await graphError(response)).toMatchObject({ code: 6000, subcode: 1363030 });
  });
});

describe('Facebook fake: tokens', () => {
  it('refuses a request without a token with code 104', async () => {
    const response = await fetch(graph(`/${facebook.appId}/uploads?file_name=a&file_length=1&file_type=video/mp4`), { method: 'POST' });

    expect(await graphError(response)).toMatchObject({ status: 400, code: 104 });
  });

  it('refuses an unknown token with code 190', async () => {
    const response = await startUpload({ access_token: 'forged' });

    expect(await graphError(response)).toEqual({ status: 400, code: 190, subcode: undefined, data: undefined, type: 'OAuthException' });
    expect(response.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('refuses an expired token with code 190, subcode 463', async () => {
    facebook.tokens.expire(userToken);

    const response = await startUpload();

    expect(await graphError(response)).toMatchObject({ status: 400, code: 190, subcode: 463 });
  });
});

describe('Facebook fake: reading', () => {
  it('answers /me for a user token and a Page token, unversioned too', async () => {
    const person = await json(await fetch(`${facebook.url}/me?access_token=${userToken}`));
    const page = await json(await fetch(graph(`/me?fields=name&access_token=${pageToken}`)));

    expect(person).toEqual({ id: '10000000000001', name: 'Fake User' });
    expect(page).toEqual({ id: pageId, name: 'Fake Page' });
  });

  it('says what kind of node /me is with metadata=1', async () => {
    const person = await json(await fetch(graph(`/me?fields=id&metadata=1&access_token=${userToken}`)));
    const page = await json(await fetch(graph(`/me?fields=id,name&metadata=1&access_token=${pageToken}`)));

    expect(person).toEqual({ id: '10000000000001', metadata: { type: 'user' } });
    expect(page).toEqual({ id: pageId, name: 'Fake Page', metadata: { type: 'page' } });
  });

  it("answers /app with the token's app", async () => {
    const app = await json(await fetch(graph('/app?fields=id,name'), { headers: { authorization: `OAuth ${pageToken}` } }));

    expect(app).toEqual({ id: facebook.appId, name: 'Fake App' });
  });

  it('answers /me without a token with code 2500', async () => {
    expect((await graphError(await fetch(graph('/me')))).code).toBe(2500);
  });

  it('refuses a field the node does not have', async () => {
    const response = await fetch(graph(`/me?fields=name,shoe_size&access_token=${userToken}`));

    expect(await graphError(response)).toMatchObject({ code: 100 });
  });

  it('refuses an unknown video as an unsupported request', async () => {
    const response = await fetch(graph(`/123456?access_token=${pageToken}`));

    expect(await graphError(response)).toMatchObject({ code: 100, subcode: 33, type: 'GraphMethodException' });
  });
});

describe('Facebook fake: faults', () => {
  it('answers an armed rate limit as a Graph error with the code asked for', async () => {
    facebook.faults.throttleNext({ code: 32, endpoint: 'uploads.start' });

    const limited = await startUpload();
    const next = await startUpload();

    expect(await json(limited)).toMatchObject({ error: { code: 32, is_transient: true } });
    expect(next.status).toBe(200);
  });

  it('answers an armed 500 as a transient Graph error', async () => {
    facebook.faults.failNext({ status: 500 });

    const response = await startUpload();

    expect(await graphError(response)).toMatchObject({ status: 500, code: 1 });
  });
});
