import { lookup } from 'node:dns';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { s3ApiFor } from '../../functions/destinations/s3/client.ts';
import { answerEndsConnection, S3Api, S3Error, type StreamedBody } from '../../functions/destinations/s3/s3-api.ts';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import type { NetworkPolicy } from '../../shared/destination/index.ts';
import { localNetwork } from '../support/network.ts';
import { createSelfSignedCertificate, type SelfSignedCertificate } from '../support/servers/tls-certificate.ts';
import { expectedAuthorization, type SigningScope } from '../support/sigv4.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

const MiB = 1024 * 1024;
const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** Whom the stores take signatures from. */
const s3Scope: SigningScope = { service: 's3', region, credentials, uriEscapePath: false };

/** A request as the store received it, its body whole. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What the store answers a request. */
interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** A store on 127.0.0.1: where it listens, and the requests it received, in order. */
interface Store {
  readonly endpoint: string;
  readonly received: Received[];
}

let certificate: SelfSignedCertificate;
let defaultCertificates: string[];
const servers: Server[] = [];

beforeAll(async () => {
  certificate = await createSelfSignedCertificate();
  // The APIs' agents trust the certificates Node trusts by default: the test certificate joins them for this file.
  defaultCertificates = getCACertificates('default');
  setDefaultCACertificates([...defaultCertificates, certificate.certificatePem]);
});

afterAll(() => {
  setDefaultCACertificates(defaultCertificates);
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function s3ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>R-${code}</RequestId></Error>`;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function answer(response: ServerResponse, { status, headers = {}, body }: Answer): void {
  response.writeHead(status, headers).end(body);
}

/** Starts `server` on 127.0.0.1; its endpoint, with the scheme it speaks. */
async function listen(server: Server, scheme: 'http' | 'https'): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A store (over TLS with the test certificate when `tls`) that reads each request whole, notes it,
 * and gives `answers` in turn, the last again once they run out.
 */
async function store(answers: readonly Answer[], { tls = false } = {}): Promise<Store> {
  const received: Received[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    void readBody(request).then((body) => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      answer(response, answers[Math.min(received.length, answers.length) - 1]!);
    });
  };
  const server = tls ? createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, handle) : createServer(handle);
  return { endpoint: await listen(server, tls ? 'https' : 'http'), received };
}

/**
 * An HTTPS store answering 200 to each request once it has read its body, in a worker thread: its
 * answers then come while this thread is still writing, as a remote store's do.
 */
async function storeInThread(tls: SelfSignedCertificate): Promise<{ endpoint: string; connections: () => Promise<number>; close: () => Promise<void> }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createServer } = require('node:https');
    let connections = 0;
    const server = createServer({ key: workerData.key, cert: workerData.cert }, (request, response) => {
      request.resume().once('end', () => response.writeHead(200, { etag: '"p"' }).end());
    });
    server.on('secureConnection', () => (connections += 1));
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => parentPort.postMessage(connections));
  `;
  const worker = new Worker(code, { eval: true, workerData: { key: tls.privateKeyPem, cert: tls.certificatePem } });
  const [port] = (await once(worker, 'message')) as [number];
  return {
    endpoint: `https://127.0.0.1:${port}`,
    connections: async () => {
      worker.postMessage('count');
      return ((await once(worker, 'message')) as [number])[0];
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

/** A store that says to go on (100 Continue) to every request that asks, reads its body and answers `answer`. */
async function continuingStore(reply: Answer): Promise<Store> {
  const received: Received[] = [];
  const server = createServer();
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    response.writeContinue();
    void readBody(request).then((body) => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      answer(response, reply);
    });
  });
  return { endpoint: await listen(server, 'http'), received };
}

function api(endpoint: string, { retries = true, forcePathStyle = true, network = localNetwork as NetworkPolicy } = {}): S3Api {
  return new S3Api({ addressing: { endpoint, region, forcePathStyle }, credentials, network, retries });
}

/** The `Authorization` S3 would compute for a received request. */
async function expectedS3Authorization(request: Received): Promise<string | undefined> {
  return expectedAuthorization({ ...request, body: request.body.toString('latin1') }, s3Scope);
}

/** A body of `length` bytes read in 16 KiB pieces, counting the reads made of it. */
function countedStream(length: number): { body: StreamedBody; reads: () => number; bytes: Buffer } {
  const bytes = patternBytes(length, 9);
  let reads = 0;
  let offset = 0;
  const stream = new Readable({
    read() {
      reads += 1;
      const piece = bytes.subarray(offset, offset + 16 * 1024);
      offset += piece.length;
      this.push(piece.length > 0 ? piece : null);
    },
  });
  return { body: { stream, length, contentSha256: 'UNSIGNED-PAYLOAD' }, reads: () => reads, bytes };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the request succeeded'),
    (error: unknown) => error,
  );
}

describe('S3Api, signing', () => {
  it('signs over plain http as S3 checks a signature, the payload hashed into it', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200, headers: { etag: '"e1"' } }]);
    const body = Buffer.from('payload of a part');

    // Act
    const answered = await api(endpoint).send({
      method: 'PUT',
      bucket: 'deliveries',
      key: 'renders/welcome.mp4',
      query: { partNumber: '2', uploadId: '2~abc/def+g==' },
      headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
      body,
    });

    // Assess
    expect(answered).toMatchObject({ status: 200, headers: { etag: '"e1"' }, body: '' });
    const [request] = received;
    expect(received).toHaveLength(1);
    expect(request!.url).toBe('/deliveries/renders/welcome.mp4?partNumber=2&uploadId=2~abc%2Fdef%2Bg%3D%3D');
    expect(request!.body).toEqual(body);
    expect(request!.headers['x-amz-content-sha256']).toBe(sha256(body));
    expect(request!.headers['content-length']).toBe(String(body.length));
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, /);
    expect(request!.headers.authorization).toMatch(/SignedHeaders=[^,]*host;[^,]*x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date,/);
    expect(request!.headers.authorization).toBe(await expectedS3Authorization(request!));
  });

  it('hashes an empty payload into the signature of a request without a body', async () => {
    const { endpoint, received } = await store([{ status: 200, body: '<ListPartsResult></ListPartsResult>' }]);

    const answered = await api(endpoint).send({ method: 'GET', bucket: 'deliveries', key: 'a.mp4', query: { uploadId: 'u' } });

    expect(answered.body).toBe('<ListPartsResult></ListPartsResult>');
    expect(received[0]!.headers['x-amz-content-sha256']).toBe(sha256(Buffer.alloc(0)));
    expect(received[0]!.headers.authorization).toBe(await expectedS3Authorization(received[0]!));
  });

  it('does not hash the payload over TLS, and signs that it does not', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200 }], { tls: true });

    // Act
    await api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body: 'payload' });

    // Assess
    const [request] = received;
    expect(endpoint).toMatch(/^https:/);
    expect(request!.body.toString()).toBe('payload');
    expect(request!.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(request!.headers.authorization).toContain('x-amz-content-sha256');
    expect(request!.headers.authorization).toBe(await expectedS3Authorization(request!));
  });

  it("signs with the keys a provider answers, asked again at each request (a role's keys are replaced before they expire)", async () => {
    const { endpoint, received } = await store([{ status: 200 }]);
    let asked = 0;
    const provider = async () => {
      asked += 1;
      return credentials;
    };
    const withProvider = new S3Api({ addressing: { endpoint, region, forcePathStyle: true }, credentials: provider, network: localNetwork, retries: true });

    await withProvider.send({ method: 'HEAD', bucket: 'deliveries', key: 'a.mp4' });
    await withProvider.send({ method: 'HEAD', bucket: 'deliveries', key: 'a.mp4' });

    expect(asked).toBe(2);
    expect(received[1]!.headers.authorization).toBe(await expectedS3Authorization(received[1]!));
  });
});

describe('S3Api, addressing', () => {
  it('puts the bucket in the path, after the endpoint’s own path, when path-style is asked for', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200 }]);

    // Act
    await api(endpoint).send({ method: 'HEAD', bucket: 'deliveries', key: 'renders/a.mp4' });
    await api(endpoint).send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } });
    await api(`${endpoint}/storage/`).send({ method: 'HEAD', bucket: 'deliveries', key: 'a.mp4' });

    // Assess
    expect(received.map((request) => request.url)).toEqual(['/deliveries/renders/a.mp4', '/deliveries?uploads=', '/storage/deliveries/a.mp4']);
    for (const request of received) {
      expect(request.headers.host).toBe(new URL(endpoint).host);
      expect(request.headers.authorization).toBe(await expectedS3Authorization(request));
    }
  });

  it('puts the bucket in the path of an endpoint given as an address, which has no host names under it', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200 }]);

    // Act
    await api(endpoint, { forcePathStyle: false }).send({ method: 'HEAD', bucket: 'deliveries', key: 'a.mp4' });

    // Assess
    expect(received.map((request) => [request.headers.host, request.url])).toEqual([[new URL(endpoint).host, '/deliveries/a.mp4']]);
  });

  it('puts the bucket in the host name, virtual-hosted, unless path-style is asked for', async () => {
    // Prepare: the store's endpoint is named (a bucket's host name on an IP address is no host
    // name), and the bucket's host name resolves to the store.
    const { endpoint, received } = await store([{ status: 200 }]);
    const { port } = new URL(endpoint);
    const asked: string[] = [];
    const resolve: LookupFunction = (hostname, options, callback) => {
      asked.push(hostname);
      lookup('127.0.0.1', options, callback as never);
    };
    const virtualHosted = api(`http://localhost:${port}`, { forcePathStyle: false, network: { allowPrivateNetworks: true, resolve } });

    // Act
    await virtualHosted.send({ method: 'HEAD', bucket: 'deliveries', key: 'renders/a.mp4' });
    await virtualHosted.send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } });

    // Assess
    expect(asked).toContain('deliveries.localhost');
    expect(received.map((request) => request.url)).toEqual(['/renders/a.mp4', '/?uploads=']);
    for (const request of received) {
      expect(request.headers.host).toBe(`deliveries.localhost:${port}`);
      expect(request.headers.authorization).toBe(await expectedS3Authorization(request));
    }
  });

  it.each([
    ['spaces', 'renders/a b.mp4', '/deliveries/renders/a%20b.mp4'],
    ['characters beyond ASCII', 'été/日本.mp4', '/deliveries/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC.mp4'],
    // Unescaped, a store may read it as a space.
    ['plus signs', 'a+b.mp4', '/deliveries/a%2Bb.mp4'],
    ["the characters encodeURIComponent keeps (!'()*)", "it's (final)*!.mp4", '/deliveries/it%27s%20%28final%29%2A%21.mp4'],
    // An escape in the key is the key's own text: escaped again, once.
    ['percent signs', '100%/a%20b.mp4', '/deliveries/100%25/a%2520b.mp4'],
    ['URL syntax (?#&=)', 'a?b#c&d=e.mp4', '/deliveries/a%3Fb%23c%26d%3De.mp4'],
  ])('escapes a key with %s once in the path, keeping its slashes, and signs the path as sent', async (_case, key, path) => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200 }]);

    // Act
    await api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key, body: 'x' });

    // Assess: the store reads the key back from the path.
    const [request] = received;
    expect(request!.url).toBe(path);
    expect(request!.url.split('/').slice(2).map(decodeURIComponent).join('/')).toBe(key);
    expect(request!.headers.authorization).toBe(await expectedS3Authorization(request!));
  });
});

describe('S3Api, bodies over TLS', () => {
  it('sends a part of 3 MiB and 5 bytes intact', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200, headers: { etag: '"p1"' } }], { tls: true });
    const part = patternBytes(3 * MiB + 5, 3);

    // Act
    const answered = await api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', query: { partNumber: '1', uploadId: 'u' }, body: part });

    // Assess
    expect(answered.headers.etag).toBe('"p1"');
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['content-length']).toBe(String(part.length));
    expect(received[0]!.body.length).toBe(part.length);
    expect(sha256(received[0]!.body)).toBe(sha256(part));
    expect(received[0]!.headers.authorization).toBe(await expectedS3Authorization(received[0]!));
  });

  it('sends the part again, whole, when the store is slowing down (503 SlowDown)', async () => {
    // Prepare
    const { endpoint, received } = await store(
      [
        { status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') },
        { status: 200, headers: { etag: '"p1"' } },
      ],
      { tls: true },
    );
    const part = patternBytes(3 * MiB + 5, 4);

    // Act
    const answered = await api(endpoint, { retries: true }).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', query: { partNumber: '1', uploadId: 'u' }, body: part });

    // Assess
    expect(answered).toMatchObject({ status: 200, headers: { etag: '"p1"' } });
    expect(received).toHaveLength(2);
    for (const request of received) {
      expect(request.body.length).toBe(part.length);
      expect(sha256(request.body)).toBe(sha256(part));
      expect(request.headers.authorization).toBe(await expectedS3Authorization(request));
    }
  });

  it('sends the part again, whole, when the store refused it before reading it all', async () => {
    // Prepare: the first answer comes at the request's head; the connection then goes.
    const received: Received[] = [];
    const part = patternBytes(3 * MiB + 5, 5);
    const server = createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (request, response) => {
      if (received.length === 0) {
        received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.alloc(0) });
        response.writeHead(503, { connection: 'close' }).end(s3ErrorBody('SlowDown', 'Please reduce your request rate.'));
        return;
      }
      void readBody(request).then((body) => {
        received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        answer(response, { status: 200, headers: { etag: '"p1"' } });
      });
    });
    const endpoint = await listen(server, 'https');

    // Act
    const answered = await api(endpoint, { retries: true }).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body: part });

    // Assess
    expect(answered.status).toBe(200);
    expect(received).toHaveLength(2);
    expect(sha256(received[1]!.body)).toBe(sha256(part));
  });

  it('keeps its connection for the next request after each part the store read whole and took', async () => {
    // Prepare: a store in a thread of its own, as a store is another machine, so its answers come
    // while this thread still writes. (The bench's sink, another process, answered 24 of 64 parts
    // before the socket reported the last write of the part: those connections were closed before.)
    const { endpoint, connections, close } = await storeInThread(certificate);
    try {
      const s3 = api(endpoint);

      // Act: parts streamed as the framing sends them (1 MiB writes, then a short last one), one after another.
      for (let part = 1; part <= 6; part += 1) {
        const pieces = [...Array.from({ length: 16 }, () => patternBytes(MiB, part)), Buffer.from('0\r\n\r\n')];
        const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
        await s3.send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', query: { partNumber: String(part), uploadId: 'u' }, body: { stream: Readable.from(pieces, { objectMode: false }), length, contentSha256: 'UNSIGNED-PAYLOAD' } });
      }

      // Assess
      expect(await connections()).toBe(1);
    } finally {
      await close();
    }
  });

  it.each([
    ['the body written and reported', { writableEnded: true, writableFinished: true }, 200, false],
    ['the body given whole, its last write not yet reported, a success', { writableEnded: true, writableFinished: false }, 200, false],
    ['the body given whole, its last write not yet reported, a failure', { writableEnded: true, writableFinished: false }, 503, true],
    ['the body not given whole (an early refusal)', { writableEnded: false, writableFinished: false }, 403, true],
  ])('decides whether the connection closes after an answer to a request with %s', (_case, request, status, closes) => {
    expect(answerEndsConnection(request, status)).toBe(closes);
  });

  it('does not send the part again when asked for no retries', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') }, { status: 200 }], { tls: true });
    const part = patternBytes(3 * MiB + 5, 6);

    // Act
    const error = await failure(api(endpoint, { retries: false }).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body: part }));

    // Assess
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code: 'SlowDown', statusCode: 503, retryable: true });
    expect(received).toHaveLength(1);
    expect(sha256(received[0]!.body)).toBe(sha256(part));
  });
});

describe('S3Api, refusals and retries', () => {
  it('gives up after three tries when the store keeps failing (500), with its last refusal', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 500, headers: { 'x-amz-request-id': 'R3' }, body: s3ErrorBody('InternalError', 'We encountered an internal error.') }]);

    // Act
    const error = await failure(api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body: 'bytes' }));

    // Assess
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code: 'InternalError', statusCode: 500, retryable: true, requestId: 'R3' });
    expect(received.map((request) => request.body.toString())).toEqual(['bytes', 'bytes', 'bytes']);
  });

  it('does not try again a refusal another try would meet (403 AccessDenied), and names it', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 403, headers: { 'x-amz-request-id': 'R403' }, body: s3ErrorBody('AccessDenied', 'Access Denied') }]);

    // Act
    const error = await failure(api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'renders/a.mp4', body: 'bytes' }));

    // Assess
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({
      name: 'AccessDenied',
      code: 'AccessDenied',
      statusCode: 403,
      retryable: false,
      requestId: 'R403',
      message: 'S3 PUT deliveries/renders/a.mp4: AccessDenied (HTTP 403): Access Denied',
    });
    expect(received).toHaveLength(1);
  });

  it.each([
    [404, 'NotFound'],
    [403, 'Forbidden'],
  ])('names a HEAD refused with %i, which has no body, by its status: %s', async (status, code) => {
    const { endpoint, received } = await store([{ status }]);

    const error = await failure(api(endpoint).send({ method: 'HEAD', bucket: 'deliveries', key: 'a.mp4' }));

    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code, statusCode: status, retryable: false });
    expect(received).toHaveLength(1);
  });

  it('takes an error S3 sent in a 200 answer for a failure whose outcome is not known (500)', async () => {
    // Prepare: CompleteMultipartUpload's 200 went before the store failed.
    const { endpoint, received } = await store([{ status: 200, body: s3ErrorBody('InternalError', 'We encountered an internal error. Please try again.') }]);

    // Act
    const error = await failure(
      api(endpoint, { retries: false }).send({ method: 'POST', bucket: 'deliveries', key: 'a.mp4', query: { uploadId: 'u' }, body: '<CompleteMultipartUpload/>' }),
    );

    // Assess
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code: 'InternalError', statusCode: 500, retryable: true });
    expect((error as Error).message).toContain('HTTP 200 with an error');
    expect(received).toHaveLength(1);
  });

  it('takes a 200 answer whose result holds Error elements for a success', async () => {
    const result = '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code></Error></DeleteResult>';
    const { endpoint } = await store([{ status: 200, body: result }]);

    const answered = await api(endpoint).send({ method: 'POST', bucket: 'deliveries', query: { delete: '' }, body: '<Delete/>' });

    expect(answered).toMatchObject({ status: 200, body: result });
  });

  it('reads an answer of 4 MiB, and fails on one over 4 MiB', async () => {
    // Prepare
    const { endpoint } = await store([
      { status: 200, body: Buffer.alloc(4 * MiB, 'a') },
      { status: 200, body: Buffer.alloc(4 * MiB + 1, 'a') },
    ]);
    const limited = api(endpoint, { retries: false });

    // Act
    const whole = await limited.send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } });
    const error = await failure(limited.send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } }));

    // Assess
    expect(whole.body.length).toBe(4 * MiB);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('S3 GET deliveries: an answer of more than 4194304 bytes');
  });
  it('does not ask again for an answer over 4 MiB, which another try would meet', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200, body: Buffer.alloc(4 * MiB + 1, 'a') }]);

    // Act
    const error = await failure(api(endpoint, { retries: true }).send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } }));

    // Assess
    expect((error as Error).message).toBe('S3 GET deliveries: an answer of more than 4194304 bytes');
    expect(received).toHaveLength(1);
  });

  it("counts an answer's bytes, not its characters: fails on 6 MiB of two-byte characters", async () => {
    // Prepare: 3 Mi characters, each two bytes in UTF-8.
    const { endpoint } = await store([{ status: 200, body: Buffer.from('é'.repeat(3 * MiB)) }]);

    // Act
    const error = await failure(api(endpoint, { retries: false }).send({ method: 'GET', bucket: 'deliveries', query: { uploads: '' } }));

    // Assess
    expect((error as Error).message).toBe('S3 GET deliveries: an answer of more than 4194304 bytes');
  });
});

describe('S3Api, streamed bodies', () => {
  it('sends a streamed body once the store says to go on (100 Continue), intact, at the length and payload it names', async () => {
    // Prepare
    const { endpoint, received } = await continuingStore({ status: 200, headers: { etag: '"s"' } });
    const { body, bytes } = countedStream(200_000);

    // Act
    const answered = await api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body });

    // Assess
    expect(answered.headers.etag).toBe('"s"');
    const [request] = received;
    expect(request!.headers).toMatchObject({ expect: '100-continue', 'content-length': '200000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(sha256(request!.body)).toBe(sha256(bytes));
    expect(request!.headers.authorization).toBe(await expectedS3Authorization(request!));
  });

  it('sends a streamed body after a second when the store says nothing before the body', async () => {
    // Prepare: a store that reads the body without sending 100 Continue.
    const received: Received[] = [];
    const server = createServer();
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      void readBody(request).then((body) => {
        received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        answer(response, { status: 200 });
      });
    });
    const endpoint = await listen(server, 'http');
    const { body, bytes } = countedStream(50_000);
    const started = Date.now();

    // Act
    await api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body });

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sha256(received[0]!.body)).toBe(sha256(bytes));
  });

  it('reads nothing of a streamed body the store refuses before 100 Continue', async () => {
    // Prepare: a store that refuses at the request's head, reading none of it.
    const heads: IncomingHttpHeaders[] = [];
    const server = createServer();
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      heads.push(request.headers);
      answer(response, { status: 403, body: s3ErrorBody('AccessDenied', 'Access Denied') });
    });
    const endpoint = await listen(server, 'http');
    const { body, reads } = countedStream(10 * MiB);

    // Act
    const error = await failure(api(endpoint).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body }));
    await new Promise((resolve) => setTimeout(resolve, 1200));

    // Assess: not even after the wait for 100 Continue has passed.
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code: 'AccessDenied', statusCode: 403 });
    expect(heads).toHaveLength(1);
    expect(heads[0]!.expect).toBe('100-continue');
    expect(reads()).toBe(0);
  });

  it('does not send a streamed body again, even with retries, when the store is slowing down', async () => {
    // Prepare
    const { endpoint, received } = await continuingStore({ status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') });
    const { body } = countedStream(50_000);

    // Act
    const error = await failure(api(endpoint, { retries: true }).send({ method: 'PUT', bucket: 'deliveries', key: 'a.mp4', body }));

    // Assess
    expect(error).toMatchObject({ code: 'SlowDown', statusCode: 503 });
    expect(received).toHaveLength(1);
  });
});

describe('Function: s3ApiFor', () => {
  it('shares one API among destinations with the same store, identity, network policy and retries, and only among them', () => {
    // Prepare
    const fields = { type: 's3', bucket: 'bucket', filename: 'k', endpoint: 'https://shared.example.com', aws_access_key_id: 'AKIA', aws_secret_access_key: 's' };
    const destination = (changes: Record<string, unknown> = {}) => s3DestinationSchema.parse({ ...fields, ...changes });

    // Act
    const shared = s3ApiFor(destination(), localNetwork);

    // Assess
    expect(shared).toBeInstanceOf(S3Api);
    expect(s3ApiFor(destination({ bucket: 'other-bucket', filename: 'x' }), localNetwork)).toBe(shared);
    expect(s3ApiFor(destination(), localNetwork, { retries: true })).toBe(shared);
    expect(s3ApiFor(destination({ aws_secret_access_key: 'rotated' }), localNetwork)).not.toBe(shared);
    expect(s3ApiFor(destination({ region: 'eu-west-1' }), localNetwork)).not.toBe(shared);
    expect(s3ApiFor(destination({ endpoint: 'https://other.example.com' }), localNetwork)).not.toBe(shared);
    expect(s3ApiFor(destination({ force_path_style: false }), localNetwork)).not.toBe(shared);
    expect(s3ApiFor(destination(), { allowPrivateNetworks: false })).not.toBe(shared);
    expect(s3ApiFor(destination(), localNetwork, { retries: false })).not.toBe(shared);
  });

  it('sends through the endpoint, region and keys a destination names', async () => {
    // Prepare
    const { endpoint, received } = await store([{ status: 200 }]);
    const destination = s3DestinationSchema.parse({
      type: 's3',
      bucket: 'deliveries',
      filename: 'k',
      endpoint,
      region,
      aws_access_key_id: credentials.accessKeyId,
      aws_secret_access_key: credentials.secretAccessKey,
    });

    // Act
    await s3ApiFor(destination, localNetwork).send({ method: 'HEAD', bucket: 'deliveries', key: 'k' });

    // Assess
    expect(received[0]!.url).toBe('/deliveries/k');
    expect(received[0]!.headers.authorization).toBe(await expectedS3Authorization(received[0]!));
  });
});
