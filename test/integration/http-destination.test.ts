import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpDestination, httpDestinationSchema } from '../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../functions/destinations/http/upload.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { localNetwork } from '../support/network.ts';
import { startTestUploadServer, type ReceivedRequest, type TestUploadServer } from '../support/servers/http-upload.ts';
import { patternBytes, sha256, sourceOf } from '../support/sources.ts';

const module = { definition: httpDestination, uploader: httpUploader };
let server: TestUploadServer;
let guarded: TestUploadServer;
let other: TestUploadServer;

beforeAll(async () => {
  [server, guarded, other] = await Promise.all([
    startTestUploadServer(),
    startTestUploadServer({ user: 'render farm', password: 'p@ss:word' }),
    startTestUploadServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([server.close(), guarded.close(), other.close()]);
});

beforeEach(() => {
  for (const each of [server, guarded, other]) {
    each.requests.length = 0;
    each.stored.clear();
  }
});

function destination(fields: Record<string, unknown>) {
  return httpDestinationSchema.parse({ type: 'http', url: `${server.url}/upload`, filename: 'welcome.mp4', ...fields });
}

/** What presigned urls carry in their query: a signature, a credential's scope, a capability. */
const signature = 'b2f6a0c4d8e1f3a5b7c9d0e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c3d5e7f9a1';
const accessKey = 'AKIAIOSFODNN7EXAMPLE';
const uploadId = 'ABg5-UxFgp3Tq0kX9cVnR2mL';

/** The requests a server saw for a path (pathname). */
function requestsTo(target: TestUploadServer, path: string): ReceivedRequest[] {
  return target.requests.filter((request) => new URL(request.url, 'http://test').pathname === path);
}

describe('HTTP destination: POST, a multipart form read back by busboy', () => {
  it("delivers the seeds' example: the file part and every field byte for byte, with the caller's headers", async () => {
    // Prepare
    const bytes = patternBytes(300_000, 2);
    const fields = destination({
      url: `${server.url}/upload/api/videos`,
      method: 'POST',
      fileid: 'video',
      fields: { title: 'Welcome, Alex!', chapter: 3, draft: false },
      headers: { Authorization: 'Bearer your-api-token', 'X-Request-Source': 'render-42' },
    });

    // Act
    const delivered = await attemptUpload(module, fields, sourceOf(bytes, { contentType: 'video/mp4' }));

    // Assess
    const [request] = requestsTo(server, '/upload/api/videos');
    expect(request).toMatchObject({
      method: 'POST',
      status: 200,
      fields: [
        ['title', 'Welcome, Alex!'],
        ['chapter', '3'],
        ['draft', 'false'],
      ],
      files: [{ field: 'video', filename: 'welcome.mp4', mimeType: 'video/mp4', size: bytes.length, sha256: sha256(bytes) }],
    });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer your-api-token', 'x-request-source': 'render-42', 'user-agent': 'upload-destinations' });
    expect(server.stored.get('welcome.mp4')?.sha256).toBe(sha256(bytes));
    expect(delivered).toMatchObject({ url: `${server.url}/upload/api/videos`, bytes: bytes.length, details: { status: 200, method: 'POST', body: 'content-length' } });
  });

  it('gives a Content-Length that is the exact body when the source tells its size', async () => {
    await attemptUpload(module, destination({ fields: { a: 'b' } }), sourceOf(patternBytes(123_457)));

    const [request] = server.requests;
    expect(request!.headers['transfer-encoding']).toBeUndefined();
    expect(Number(request!.headers['content-length'])).toBe(request!.bodyBytes);
    expect(request!.bodyBytes).toBeGreaterThan(123_457);
  });

  it('streams a source of unknown size as a chunked form, intact', async () => {
    const bytes = patternBytes(1_000_003, 4);

    const delivered = await attemptUpload(module, destination({}), sourceOf(bytes, { size: undefined }));

    const [request] = server.requests;
    expect(request!.headers['transfer-encoding']).toBe('chunked');
    expect(request!.headers['content-length']).toBeUndefined();
    expect(server.stored.get('welcome.mp4')?.sha256).toBe(sha256(bytes));
    expect(delivered.details).toMatchObject({ body: 'chunked' });
  });

  it('leaves nothing when a source of unknown size breaks: the chunked body is cut, never ended', async () => {
    const error = await attemptFailure(module, destination({}), sourceOf(patternBytes(3_000_000), { size: undefined, failsAt: 1_000_000 }));

    expect(error).toBeInstanceOf(TransientError);
    expect(await server.inProgress()).toBe(0);
    expect(server.requests).toMatchObject([{ status: 'broken' }]);
    expect(server.stored.size).toBe(0);
  });

  it('sends user and password as Basic authentication', async () => {
    const bytes = patternBytes(5000);

    await attemptUpload(module, destination({ url: `${guarded.url}/upload`, user: 'render farm', password: 'p@ss:word' }), sourceOf(bytes));

    expect(guarded.stored.get('welcome.mp4')?.sha256).toBe(sha256(bytes));
    expect(guarded.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('render farm:p@ss:word').toString('base64')}`);
  });

  it("takes the file part's type from contenttype, else the source's, else application/octet-stream", async () => {
    await attemptUpload(module, destination({ filename: 'a.mov', contenttype: 'video/quicktime' }), sourceOf(patternBytes(10), { contentType: 'video/mp4' }));
    await attemptUpload(module, destination({ filename: 'b.bin' }), sourceOf(patternBytes(10)));

    expect(server.stored.get('a.mov')?.contentType).toBe('video/quicktime');
    expect(server.stored.get('b.bin')?.contentType).toBe('application/octet-stream');
  });

  it('sends a non-ASCII file name as UTF-8 and escapes quotes as browsers do', async () => {
    await attemptUpload(module, destination({ filename: 'Été à Zürich.mp4', fields: { 'légende "courte"': 'ça' } }), sourceOf(patternBytes(10)));

    expect([...server.stored.keys()]).toEqual(['Été à Zürich.mp4']);
    expect(server.requests[0]!.fields).toEqual([['légende %22courte%22', 'ça']]);
  });
});

describe('HTTP destination: PUT, the raw bytes', () => {
  it('PUTs the bytes with their Content-Type and Content-Length', async () => {
    const bytes = patternBytes(250_000, 5);

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/raw/a.mp4`, method: 'put', contenttype: 'video/mp4' }), sourceOf(bytes));

    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'PUT', status: 200, bodyBytes: bytes.length });
    expect(request!.headers).toMatchObject({ 'content-type': 'video/mp4', 'content-length': String(bytes.length) });
    expect(server.stored.get('raw/a.mp4')?.sha256).toBe(sha256(bytes));
    expect(delivered).toMatchObject({ url: `${server.url}/upload/raw/a.mp4`, details: { method: 'PUT', body: 'content-length' } });
  });

  it('PUTs into a collection (a url ending in /) under the filename', async () => {
    const bytes = patternBytes(1000);

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/dav/`, method: 'PUT', filename: 'renders/final cut.mp4' }), sourceOf(bytes, { contentType: 'video/mp4' }));

    expect(server.requests[0]!.url).toBe('/upload/dav/renders/final%20cut.mp4');
    expect(server.stored.get('dav/renders/final cut.mp4')).toMatchObject({ sha256: sha256(bytes), contentType: 'video/mp4' });
    expect(delivered.url).toBe(`${server.url}/upload/dav/renders/final%20cut.mp4`);
  });

  it('PUTs a source of unknown size chunked', async () => {
    const bytes = patternBytes(700_001, 6);

    await attemptUpload(module, destination({ url: `${server.url}/upload/raw/unknown.bin`, method: 'PUT' }), sourceOf(bytes, { size: undefined }));

    expect(server.requests[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(server.stored.get('raw/unknown.bin')?.sha256).toBe(sha256(bytes));
  });
});

describe('HTTP destination: what it answers', () => {
  it('answers with the Location of a 201 Created', async () => {
    server.script('/upload/created', { status: 201, headers: { location: '/files/welcome.mp4' } });

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/created` }), sourceOf(patternBytes(10)));

    expect(delivered.url).toBe(`${server.url}/files/welcome.mp4`);
    expect(delivered.details).toMatchObject({ status: 201 });
  });

  it('answers with the url field of a JSON answer', async () => {
    server.script('/upload/json', { body: JSON.stringify({ id: 'v1', url: 'https://cdn.example.com/v/1.mp4' }) });

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/json` }), sourceOf(patternBytes(10)));

    expect(delivered.url).toBe('https://cdn.example.com/v/1.mp4');
    expect(delivered.details?.response).toBe('{"id":"v1","url":"https://cdn.example.com/v/1.mp4"}');
  });

  it('answers with the url without its query when the server names no place', async () => {
    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/plain?signature=abc123` }), sourceOf(patternBytes(10)));

    expect(delivered.url).toBe(`${server.url}/upload/plain`);
  });

  it('keeps the first 512 bytes of the answer, with the secrets it echoes hidden', async () => {
    server.script('/upload/echo', { body: `{"seen":"Bearer your-api-token","pad":"${'x'.repeat(2000)}"}` });

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/echo`, headers: { Authorization: 'Bearer your-api-token' } }), sourceOf(patternBytes(10)));

    const response = String(delivered.details?.response);
    expect(response).toContain('[redacted]');
    expect(response).not.toContain('your-api-token');
    expect(Buffer.byteLength(response.replace(/…$/, ''))).toBe(512);
  });

  it('hides the query of a presigned url in what the server answers: its values as sent and as decoded', async () => {
    const path = '/upload/presigned';
    const url = `${server.url}${path}?X-Goog-Credential=uploader%40renders.iam.gserviceaccount.com%2F20250101&upload_id=${uploadId}`;
    server.script(path, { body: JSON.stringify({ received: `PUT ${path}?upload_id=${uploadId}`, credential: 'uploader@renders.iam.gserviceaccount.com/20250101' }) });

    const delivered = await attemptUpload(module, destination({ url, method: 'PUT' }), sourceOf(patternBytes(10)));

    const response = String(delivered.details?.response);
    expect(response).toContain(`PUT ${path}?upload_id=[redacted]`);
    expect(response).not.toContain(uploadId);
    expect(response).not.toContain('uploader@renders');
  });

  it('answers with the url without its query when the server names the presigned url it was sent to', async () => {
    const url = `${server.url}/upload/named?upload_id=${uploadId}`;
    server.script('/upload/named', { body: JSON.stringify({ url }) });

    const delivered = await attemptUpload(module, destination({ url, method: 'PUT' }), sourceOf(patternBytes(10)));

    expect(delivered.url).toBe(`${server.url}/upload/named`);
  });
});

describe('HTTP destination: failures', () => {
  it('retries a 503: the first attempt is transient after the Retry-After, the second delivers', async () => {
    // Prepare
    const bytes = patternBytes(200_000, 7);
    const fields = destination({ url: `${server.url}/upload/flaky` });
    server.script('/upload/flaky', { status: 503, headers: { 'retry-after': '7' }, body: 'busy, come back later' });

    // Act
    const first = await attemptFailure(module, fields, sourceOf(bytes));
    const second = await attemptUpload(module, fields, sourceOf(bytes));

    // Assess
    expect(first).toBeInstanceOf(TransientError);
    expect(first).toMatchObject({ code: 'HTTP503', retryAfterSeconds: 7 });
    expect(first.message).toContain('busy, come back later');
    expect(second.bytes).toBe(bytes.length);
    expect(server.stored.get('welcome.mp4')?.sha256).toBe(sha256(bytes));
    expect(requestsTo(server, '/upload/flaky').map((request) => request.status)).toEqual([503, 200]);
  });

  it.each([408, 425, 429, 500, 502, 504])('fails transiently on %i', async (status) => {
    server.script('/upload/status', { status });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/status` }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe(`HTTP${status}`);
    expect(server.stored.size).toBe(0);
  });

  it('honours a Retry-After given as a date', async () => {
    server.script('/upload/status', { status: 429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } });

    const error = (await attemptFailure(module, destination({ url: `${server.url}/upload/status` }), sourceOf(patternBytes(10)))) as TransientError;

    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it('fails permanently on 401 before a byte of the file is sent, with the reason and without the password the server echoes', async () => {
    const fields = destination({ url: `${guarded.url}/upload`, user: 'render farm', password: 'not-the-password' });

    const error = await attemptFailure(module, fields, sourceOf(patternBytes(100_000)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('HTTP401');
    expect(error.message).toContain('check user and password');
    expect(error.message).toContain('invalid credentials');
    expect(error.message).not.toContain('not-the-password');
    expect(error.message).not.toContain(Buffer.from('render farm:not-the-password').toString('base64'));
    expect(guarded.requests[0]!.bodyBytes).toBe(0);
  });

  it.each([
    [400, 'malformed'],
    [403, 'forbids'],
    [404, 'check url'],
    [405, 'does not take this method'],
    [413, 'larger than the server takes'],
    [415, 'content type'],
    [422, 'HTTP 422'],
  ])('fails permanently on %i, saying what to change and what the server said', async (status, advice) => {
    server.script('/upload/status', { status, body: `{"error":"refused with ${status}"}` });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/status` }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe(`HTTP${status}`);
    expect(error.message).toContain(advice);
    expect(error.message).toContain(`refused with ${status}`);
  });

  it('fails without the signature of a presigned url, which the server quotes without scheme or host', async () => {
    const path = '/upload/signed';
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${accessKey}%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${signature}`;
    server.script(path, {
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body:
        `<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>${accessKey}</AWSAccessKeyId>` +
        `<SignatureProvided>${signature}</SignatureProvided><CanonicalRequest>PUT ${path} ${query}</CanonicalRequest></Error>`,
    });

    const error = await attemptFailure(module, destination({ url: `${server.url}${path}?${query}`, method: 'PUT' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('SignatureDoesNotMatch');
    expect(error.message).toContain('X-Amz-Credential=[redacted]');
    expect(error.message).not.toContain(signature);
  });

  it('fails permanently on 411, saying that the source did not tell its size', async () => {
    server.script('/upload/status', { status: 411 });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/status` }), sourceOf(patternBytes(10), { size: undefined }));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('needs a Content-Length');
  });

  it('fails transiently when the server drops the connection instead of answering', async () => {
    server.script('/upload/crash', { drops: true });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/crash` }), sourceOf(patternBytes(50_000)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('ECONNRESET');
  });

  it('fails permanently when the server claims success before it took the file', async () => {
    server.script('/upload/eager', { status: 200, early: true });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/eager` }), sourceOf(patternBytes(50_000)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('AnsweredBeforeBody');
    expect(server.requests[0]!.bodyBytes).toBe(0);
  });

  it('connects only where the network allows: a loopback url is refused when private networks are', async () => {
    const error = await attemptFailure(module, destination({}), sourceOf(patternBytes(10)), { network: outboundNetwork({ allowPrivateNetworks: false }) });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('EADDRNOTALLOWED');
    expect(server.requests).toHaveLength(0);
  });
});

describe('HTTP destination: Expect: 100-continue and redirects', () => {
  it('follows a 307 answered before the body: the file goes only to the new address', async () => {
    const bytes = patternBytes(400_000, 8);
    server.script('/upload/old', { status: 307, early: true, headers: { location: '/upload/new' } });

    const delivered = await attemptUpload(module, destination({ url: `${server.url}/upload/old` }), sourceOf(bytes));

    expect(requestsTo(server, '/upload/old')).toMatchObject([{ status: 307, bodyBytes: 0 }]);
    expect(requestsTo(server, '/upload/new')).toMatchObject([{ status: 200, files: [{ sha256: sha256(bytes) }] }]);
    expect(delivered.details).toMatchObject({ redirects: 1, redirected_to: `${server.url}/upload/new` });
  });

  it('follows a 308 to another origin, leaving the credentials behind', async () => {
    const bytes = patternBytes(1000);
    server.script('/upload/moved', { status: 308, early: true, headers: { location: `${other.url}/upload/here` } });
    const fields = destination({ url: `${server.url}/upload/moved`, method: 'PUT', headers: { Authorization: 'Bearer your-api-token', 'X-Api-Key': 'k-123', 'X-Trace': 't-1' } });

    await attemptUpload(module, fields, sourceOf(bytes));

    expect(other.stored.get('here')?.sha256).toBe(sha256(bytes));
    expect(other.requests[0]!.headers).toMatchObject({ 'x-trace': 't-1' });
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();
  });

  it('follows 5 redirects and refuses a 6th, permanently', async () => {
    const hop = { status: 307, early: true, headers: { location: '/upload/loop' } };
    server.script('/upload/loop', hop, hop, hop, hop, hop);
    await attemptUpload(module, destination({ url: `${server.url}/upload/loop` }), sourceOf(patternBytes(10)));
    server.script('/upload/loop', hop, hop, hop, hop, hop, hop);

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/loop` }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('TooManyRedirects');
  });

  it.each([301, 302, 303])('does not follow a %i (it would make the upload a GET): permanent, naming the location, nothing sent', async (status) => {
    server.script('/upload/gone', { status, early: true, headers: { location: '/elsewhere?token=secret-token' } });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/gone` }), sourceOf(patternBytes(10_000)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`redirects to ${server.url}/elsewhere`);
    expect(error.message).not.toContain('secret-token');
    expect(server.requests).toMatchObject([{ bodyBytes: 0 }]);
  });

  it('fails transiently on a 307 that comes after the body (the source is read once per attempt); the next attempt asks again', async () => {
    const bytes = patternBytes(20_000);
    server.script('/upload/late', { status: 307, headers: { location: '/upload/elsewhere' } });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/late` }), sourceOf(bytes));
    await attemptUpload(module, destination({ url: `${server.url}/upload/late` }), sourceOf(bytes));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('RedirectAfterBody');
    expect(requestsTo(server, '/upload/elsewhere')).toHaveLength(0);
    expect(requestsTo(server, '/upload/late').map((request) => request.status)).toEqual([307, 200]);
  });

  it('fails permanently on a 308 that comes after the body, saying where to point url', async () => {
    server.script('/upload/late', { status: 308, headers: { location: '/upload/v2' } });

    const error = await attemptFailure(module, destination({ url: `${server.url}/upload/late` }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`moved to ${server.url}/upload/v2`);
  });

  it('sends the body after a short wait to a server that ignores Expect: 100-continue', async () => {
    const bytes = patternBytes(80_000);
    server.script('/upload/old-server', { ignoresExpect: true });
    const started = Date.now();

    await attemptUpload(module, destination({ url: `${server.url}/upload/old-server` }), sourceOf(bytes));

    expect(server.stored.get('welcome.mp4')?.sha256).toBe(sha256(bytes));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('asks again without Expect when the server refuses it (417)', async () => {
    server.script('/upload/strict', { status: 417, early: true });

    await attemptUpload(module, destination({ url: `${server.url}/upload/strict` }), sourceOf(patternBytes(10)));

    expect(server.requests.map((request) => [request.status, request.headers.expect])).toEqual([
      [417, '100-continue'],
      [200, undefined],
    ]);
  });
});

describe('HTTP destination: probe (OPTIONS, no file)', () => {
  const signal = AbortSignal.timeout(10_000);

  it('passes for an endpoint that takes the method, sending nothing but OPTIONS', async () => {
    const checks = await httpUploader.probe!({ destination: destination({}), signal, network: localNetwork });

    expect(checks.map((check) => [check.name, check.ok])).toEqual([
      ['reach', true],
      ['credentials', true],
      ['endpoint', true],
    ]);
    expect(server.requests.map((request) => request.method)).toEqual(['OPTIONS']);
  });

  it('fails the endpoint check when the server allows other methods only', async () => {
    server.script('/upload/read-only', { status: 204, early: true, headers: { allow: 'GET, HEAD' } });

    const checks = await httpUploader.probe!({ destination: destination({ url: `${server.url}/upload/read-only` }), signal, network: localNetwork });

    expect(checks.find((check) => check.name === 'endpoint')).toMatchObject({ ok: false, detail: 'allows GET, HEAD, not POST' });
  });

  it('fails the reach check when nothing listens', async () => {
    const checks = await httpUploader.probe!({ destination: destination({ url: 'http://127.0.0.1:1/upload' }), signal, network: localNetwork });

    expect(checks).toMatchObject([{ name: 'reach', ok: false }]);
  });
});
