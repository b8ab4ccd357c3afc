import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';
import { startTestS3, type TestS3 } from '../support/local-s3.ts';

let server: TestS3;
let sources: SourceOpener;

beforeAll(async () => {
  server = await startTestS3(['staging']);
  const credentials = { accessKeyId: server.s3.accessKeyId, secretAccessKey: server.s3.secretAccessKey, sessionToken: 'a-session-token' };
  sources = new SourceOpener(new StagingObjects({ region: 'us-east-1', endpoint: server.s3.endpoint, credentials }).get, outboundNetwork({ allowPrivateNetworks: false }), {
    allowedSourceHosts: [],
  });
});

afterAll(async () => {
  await server.close();
});

async function stage(key: string, body: string): Promise<void> {
  await server.reader.send(new PutObjectCommand({ Bucket: 'staging', Key: key, Body: body, ContentType: 'video/mp4' }));
}

describe('Staging objects read with one signed GET', () => {
  it.each(['uploads/a b+c.mp4', 'uploads/ünï/çødé (1).mp4', "uploads/it's*!.mp4"])('opens %s, its size, type and version', async (key) => {
    await stage(key, `the bytes of ${key}`);

    const opened = await sources.open({ bucket: 'staging', key }, undefined, AbortSignal.timeout(10_000));

    expect(await text(opened.stream)).toBe(`the bytes of ${key}`);
    expect(opened).toMatchObject({ startsAt: 0, size: Buffer.byteLength(`the bytes of ${key}`), contentType: 'video/mp4', version: expect.stringMatching(/^".+"$/) });
    const [request] = server.s3.requests.filter((sent) => sent.method === 'GET' && sent.path.startsWith('/staging/uploads/')).slice(-1);
    expect(request?.headers).toMatchObject({
      authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=S3RVER\//),
      'x-amz-security-token': 'a-session-token',
      // S3 wants the payload's hash on every SigV4 request, a GET's too.
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });

  it('asks for the key as written, a `..` segment included, not for the key URL parsing would resolve it to', async () => {
    // The local S3 refuses such keys (they would be paths on its disk): a bare server shows the request line.
    const seen: string[] = [];
    const bare = createServer((request, response) => {
      seen.push(request.url ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => bare.close(() => resolve())));
    const get = new StagingObjects({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).get;

    const response = await get('staging', 'uploads/x/../secret.mp4', 0, AbortSignal.timeout(10_000));
    response.resume();

    expect(seen).toEqual(['/staging/uploads/x/../secret.mp4']);
  });

  it('reads from an offset with a ranged GET', async () => {
    await stage('uploads/ranged.bin', '0123456789');

    const opened = await sources.open({ bucket: 'staging', key: 'uploads/ranged.bin' }, undefined, AbortSignal.timeout(10_000), 4);

    expect(opened).toMatchObject({ startsAt: 4, size: 10 });
    expect(await text(opened.stream)).toBe('456789');
  });

  it('reads a part of the same version: a bounded range, If-Match its ETag', async () => {
    await stage('uploads/parts.bin', '0123456789');
    const whole = await sources.open({ bucket: 'staging', key: 'uploads/parts.bin' }, undefined, AbortSignal.timeout(10_000));
    whole.stream.destroy();

    const part = await sources.open({ bucket: 'staging', key: 'uploads/parts.bin' }, undefined, AbortSignal.timeout(10_000), 2, { end: 6, version: whole.version });

    expect(whole.ranges).toBe(true);
    expect(part).toMatchObject({ startsAt: 2, size: 10 });
    expect(await text(part.stream)).toBe('2345');
    const [request] = server.s3.requests.filter((sent) => sent.method === 'GET' && sent.path === '/staging/uploads/parts.bin').slice(-1);
    expect(request?.headers).toMatchObject({ range: 'bytes=2-5', 'if-match': whole.version });
  });

  it('fails transiently, as a source that changed, when the object is no longer the version a part is read of', async () => {
    // s3rver ignores If-Match: a bare server answers as S3 does.
    const bare = createServer((_request, response) => {
      response.writeHead(412, { 'content-type': 'application/xml' }).end('<Error><Code>PreconditionFailed</Code></Error>');
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => bare.close(() => resolve())));
    const endpoint = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    const opener = new SourceOpener(new StagingObjects({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).get, outboundNetwork({ allowPrivateNetworks: true }), {
      allowedSourceHosts: [],
    });

    const error = await opener.open({ bucket: 'staging', key: 'uploads/changed.bin' }, undefined, AbortSignal.timeout(10_000), 5, { end: 9, version: '"old"' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SourceChanged', message: 'source s3://staging/uploads/changed.bin changed while it was being read' });
  });

  /** A reader of a staging object, as an attempt opens it. */
  async function readerOf(key: string): Promise<SourceReader> {
    const signal = AbortSignal.timeout(10_000);
    const from = { bucket: 'staging', key };
    return new SourceReader(await sources.open(from, undefined, signal), { reopen: (offset, bounds) => sources.open(from, undefined, signal, offset, bounds) });
  }

  it('fails as transient, a changed source, when the object is replaced by a shorter one before its read continues', async () => {
    // Prepare: the attempt opens the object; it is then overwritten with one shorter than the offset.
    await stage('uploads/shrunk.bin', '0123456789');
    const source = await readerOf('uploads/shrunk.bin');
    onTestFinished(() => source.close());
    await stage('uploads/shrunk.bin', '0123');

    // Act
    const error = await source
      .stream({ offset: 6, crc32: crc32(Buffer.from('012345')) })
      .then(text)
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SourceChanged' });
  });

  it('fails as transient, a changed source, when the object is overwritten between its parts, even by a store that ignores If-Match', async () => {
    // Prepare: s3rver answers the part of the new version despite If-Match naming the old one.
    await stage('uploads/overwritten.bin', '0123456789');
    const source = await readerOf('uploads/overwritten.bin');
    onTestFinished(() => source.close());
    const [, second] = source.rangedParts(() => 5)!;
    await stage('uploads/overwritten.bin', 'abcdefghij');

    // Act
    const error = await second!
      .open()
      .then(async (read) => text(read.stream))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SourceChanged' });
  });

  it('fails for good, naming the object and S3’s code, when the object is not there', async () => {
    const error = await sources.open({ bucket: 'staging', key: 'uploads/missing.mp4' }, undefined, AbortSignal.timeout(10_000)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'NoSuchKey', message: 'source s3://staging/uploads/missing.mp4: NoSuchKey' });
  });

  it.each([
    [2, 'opens it at the third try', undefined],
    [3, 'fails transiently after three tries, naming S3’s code', 'SlowDown'],
  ])('given S3 answering SlowDown %i times, %s', async (slowDowns, _outcome, failure) => {
    let requests = 0;
    const bare = createServer((request, response) => {
      requests += 1;
      if (requests <= slowDowns) response.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>');
      else response.writeHead(200, { 'content-length': '5', etag: '"e"' }).end('bytes');
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => bare.close(() => resolve())));
    const get = new StagingObjects({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).get;
    const opener = new SourceOpener(get, outboundNetwork({ allowPrivateNetworks: false }), { allowedSourceHosts: [] });

    const opened = opener.open({ bucket: 'staging', key: 'uploads/busy.mp4' }, undefined, AbortSignal.timeout(10_000));

    if (failure === undefined) expect(await text((await opened).stream)).toBe('bytes');
    else await expect(opened).rejects.toMatchObject({ retryable: true, message: expect.stringContaining(failure) });
    expect(requests).toBe(3);
  });
});


describe('Sources at a URL, read in parts', () => {
  /** A server of one file whose ETag is `etag`, answering ranges and If-Match as a file server does. */
  async function fileServer(etag: string, acceptRanges = true): Promise<{ url: string; seen: Record<string, string | undefined>[] }> {
    const bytes = Buffer.from('0123456789');
    const seen: Record<string, string | undefined>[] = [];
    const served = createServer((request, response) => {
      seen.push({ range: request.headers.range, ifMatch: request.headers['if-match'] });
      if (request.headers['if-match'] !== undefined && request.headers['if-match'] !== etag) return void response.writeHead(412).end();
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      const headers = { etag, ...(acceptRanges ? { 'accept-ranges': 'bytes' } : {}) };
      if (!range) return void response.writeHead(200, { ...headers, 'content-length': bytes.length }).end(bytes);
      const [start, end] = [Number(range[1]), Number(range[2])];
      response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${bytes.length}` }).end(bytes.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => served.close(() => resolve())));
    return { url: `http://127.0.0.1:${(served.address() as AddressInfo).port}/file.bin`, seen };
  }

  const opener = (): SourceOpener =>
    new SourceOpener(() => Promise.reject(new Error('no bucket here')), outboundNetwork({ allowPrivateNetworks: true }), { allowedSourceHosts: [] });

  it('promises parts when the server accepts byte ranges and names the file with a strong ETag, and reads one with If-Match', async () => {
    const { url, seen } = await fileServer('"v1"');

    const whole = await opener().open({ url }, undefined, AbortSignal.timeout(10_000));
    whole.stream.destroy();
    const part = await opener().open({ url }, undefined, AbortSignal.timeout(10_000), 3, { end: 7, version: whole.version });

    expect(whole).toMatchObject({ ranges: true, version: '"v1"' });
    expect(part.startsAt).toBe(3);
    expect(await text(part.stream)).toBe('3456');
    expect(seen[1]).toEqual({ range: 'bytes=3-6', ifMatch: '"v1"' });
  });

  it.each([
    ['a weak ETag', 'W/"v1"', true],
    ['no Accept-Ranges', '"v1"', false],
  ])('promises no parts to a server with %s', async (_case, etag, acceptRanges) => {
    const { url } = await fileServer(etag, acceptRanges);

    const whole = await opener().open({ url }, undefined, AbortSignal.timeout(10_000));
    whole.stream.destroy();

    expect(whole.ranges).toBe(false);
  });

  it('fails transiently, as a source that changed, when the file is no longer the version a part is read of', async () => {
    const { url } = await fileServer('"v2"');

    const error = await opener().open({ url }, undefined, AbortSignal.timeout(10_000), 3, { end: 7, version: '"v1"' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SourceChanged' });
  });
});
