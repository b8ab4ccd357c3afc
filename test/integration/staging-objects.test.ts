import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PermanentError } from '../../shared/errors.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
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

