import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { getCACertificates, setDefaultCACertificates, Server as TlsServer, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { directConnect, getOfUrl, pooledGet, type PooledAnswer } from '../../shared/net/pooled-get.ts';
import { MalformedResponseError } from '../../shared/net/response-head.ts';
import { reusedChunkBytes } from '../../shared/streams/reused-chunks.ts';
import { createSelfSignedCertificate, type SelfSignedCertificate } from '../support/servers/tls-certificate.ts';
import { patternBytes } from '../support/sources.ts';

const servers: Server[] = [];
/** Connections the raw servers accepted: closed after each test, as a kept one would hold its server open. */
const accepted: Socket[] = [];
let certificate: SelfSignedCertificate;
const defaultCertificates = getCACertificates('default');

beforeAll(async () => {
  certificate = await createSelfSignedCertificate();
  // directConnect trusts the certificates Node trusts by default: the test certificate joins them for this file.
  setDefaultCACertificates([...defaultCertificates, certificate.certificatePem]);
});

afterAll(() => setDefaultCACertificates(defaultCertificates));

afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server on 127.0.0.1 that reads a request's head, notes it, and then lets `answer` write what it likes. */
async function rawServer(answer: (socket: Socket) => unknown): Promise<{ origin: URL; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    let head = '';
    const onData = (data: Buffer): void => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests.push(head);
      void answer(socket);
    };
    socket.on('data', onData).on('error', () => undefined);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), requests };
}

/** Starts `server` on 127.0.0.1, closed after the test; its origin. */
async function listening(server: Server): Promise<URL> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return new URL(`${server instanceof TlsServer ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** Writes `pieces` one at a time, each after the last has gone, so they reach the reader as separate reads. */
async function writeApart(socket: Socket, pieces: readonly (string | Buffer)[]): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function bodyOf(answer: PooledAnswer): Promise<{ bytes: Buffer; chunks: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(Buffer.from(chunk as Buffer));
  return { bytes: Buffer.concat(chunks), chunks: chunks.length };
}

const get = (origin: URL, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<PooledAnswer> =>
  pooledGet({ origin, path: '/bucket/some%20key?x-id=GetObject', headers, ...(signal ? { signal } : {}) }, directConnect);

describe('pooledGet', () => {
  it('sends one GET, with the Host of its origin once, and reads a body of known length whole, in full chunks', async () => {
    const bytes = patternBytes(3 * reusedChunkBytes + 12_345, 3);
    const { origin, requests } = await rawServer((socket) => {
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\nETag: "v1"\r\nX-Amz-Meta-A: 1\r\nX-Amz-Meta-A: 2\r\n\r\n`), bytes]));
    });

    const answer = await get(origin, { host: 'signed.example.com', range: 'bytes=0-' });
    const { bytes: body, chunks } = await bodyOf(answer);

    expect(answer.statusCode).toBe(200);
    expect(answer.headers.etag).toBe('"v1"');
    expect(answer.headers['x-amz-meta-a']).toBe('1, 2');
    expect(body.equals(bytes)).toBe(true);
    expect(chunks).toBe(4);
    expect(requests).toEqual([`GET /bucket/some%20key?x-id=GetObject HTTP/1.1\r\nHost: ${origin.host}\r\nrange: bytes=0-\r\n\r\n`]);
  });

  it('sends the GET of a URL as Node’s client does: its escaped path and query, no fragment, its user and password as Basic credentials', async () => {
    const { origin, requests } = await rawServer((socket) => socket.end('HTTP/1.1 204 No Content\r\n\r\n'));
    const url = new URL(`http://us%40er:pa%3Ass@${origin.host}/renders/a b.mp4?v=1#part`);

    const answer = await pooledGet(getOfUrl(url, { range: 'bytes=10-' }), directConnect);

    expect(answer.statusCode).toBe(204);
    expect(requests).toEqual([
      `GET /renders/a%20b.mp4?v=1 HTTP/1.1\r\nHost: ${origin.host}\r\nauthorization: Basic ${Buffer.from('us@er:pa:ss').toString('base64')}\r\nrange: bytes=10-\r\n\r\n`,
    ]);
  });

  it('reads over TLS, verifying the server’s certificate, and resumes the TLS session for a GET on a new connection to the same server', async () => {
    const bytes = patternBytes(700_001, 4);
    const resumed: boolean[] = [];
    const server = createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (request, response) => {
      resumed.push((request.socket as TLSSocket).isSessionReused());
      // Closing each connection makes the second GET connect again.
      response.writeHead(206, { 'content-length': bytes.length, 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}`, connection: 'close' }).end(bytes);
    });
    const origin = await listening(server);

    const answer = await get(origin);
    const body = await bodyOf(answer);
    await bodyOf(await get(origin));

    expect(answer.statusCode).toBe(206);
    expect(body.bytes.equals(bytes)).toBe(true);
    expect(resumed).toEqual([false, true]);
  });

  describe('keeps a connection whose answer was read to its end for the next GET to the same server', () => {
    /** An HTTP(S) server answering GET /<n> with n pattern bytes (`chunked` when asked), counting its connections. */
    async function countingServer(options: { tls?: boolean; chunked?: boolean; keepAliveTimeoutMs?: number } = {}): Promise<{ origin: URL; connections: () => number }> {
      let connections = 0;
      const handler = (request: IncomingMessage, response: ServerResponse): void => {
        const bytes = patternBytes(Number(request.url?.slice(1)), 2);
        if (options.chunked) response.writeHead(200, { 'transfer-encoding': 'chunked' }).end(bytes);
        else response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      };
      const server = options.tls ? createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, handler) : createHttpServer(handler);
      server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
      server.on(options.tls ? 'secureConnection' : 'connection', () => (connections += 1));
      return { origin: await listening(server), connections: () => connections };
    }

    const read = async (origin: URL, size: number): Promise<Buffer> =>
      (await bodyOf(await pooledGet({ origin, path: `/${size}`, headers: {} }, directConnect))).bytes;

    it.each([
      ['a body of known length', {}],
      ['a chunked body', { chunked: true }],
      ['a body over TLS', { tls: true }],
    ])('reads %s, then the next, on one connection', async (_case, options) => {
      const { origin, connections } = await countingServer(options);

      const first = await read(origin, 3 * reusedChunkBytes + 5);
      const second = await read(origin, 1000);

      expect(first.equals(patternBytes(3 * reusedChunkBytes + 5, 2))).toBe(true);
      expect(second.equals(patternBytes(1000, 2))).toBe(true);
      expect(connections()).toBe(1);
    });

    it('reads GETs at once on connections of their own, and the next ones on those kept', async () => {
      const { origin, connections } = await countingServer();

      await Promise.all([read(origin, 10), read(origin, 20), read(origin, 30)]);
      const again = await Promise.all([read(origin, 40), read(origin, 50), read(origin, 60)]);

      expect(again.map((bytes) => bytes.length)).toEqual([40, 50, 60]);
      expect(connections()).toBe(3);
    });

    /**
     * A server that answers `ok` to the GETs `answers(connection, request)` lets through (both
     * counted from 1) and closes the connection at the others, without a byte.
     */
    async function closingServer(answers: (connection: number, request: number) => boolean): Promise<{ origin: URL; connections: () => number }> {
      let connections = 0;
      const server = createServer((socket) => {
        const connection = (connections += 1);
        accepted.push(socket);
        let requests = 0;
        socket.on('data', () => {
          requests += 1;
          if (answers(connection, requests)) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else socket.destroy();
        });
      });
      return { origin: await listening(server), connections: () => connections };
    }

    it('sends the GET again on a new connection when the kept one closes before any byte of its answer', async () => {
      // The first connection closes at its second GET, as a server that closed it while it waited
      // does when the GET crosses its close.
      const { origin, connections } = await closingServer((connection, request) => connection > 1 || request === 1);

      const first = await bodyOf(await get(origin));
      const second = await bodyOf(await get(origin));

      expect([first.bytes.toString(), second.bytes.toString()]).toEqual(['ok', 'ok']);
      expect(connections()).toBe(2);
    });

    it('fails a GET whose new connection closes before an answer, after the kept one did', async () => {
      const { origin, connections } = await closingServer((connection, request) => connection === 1 && request === 1);
      await bodyOf(await get(origin));

      await expect(get(origin)).rejects.toThrow(/closed before an answer/);
      expect(connections()).toBe(2);
    });

    it.each([
      ['says Connection: close', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'],
      ['answers over HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
      ['sends more than its answer', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad'],
      ['sends more than its chunked answer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad'],
    ])('does not keep a connection whose server %s', async (_case, text) => {
      // The server reads one request per connection: a second GET on the first would wait for ever.
      const { origin, requests } = await rawServer((socket) => socket.write(text));

      const first = await bodyOf(await get(origin));
      const second = await bodyOf(await get(origin));

      expect([first.bytes.toString(), second.bytes.toString()]).toEqual(['ok', 'ok']);
      expect(requests).toHaveLength(2);
    });

    it('does not keep a connection whose body the reader left before its end', async () => {
      const { origin, connections } = await countingServer();
      const answer = await pooledGet({ origin, path: `/${4 * reusedChunkBytes}`, headers: {} }, directConnect);
      await once(answer, 'data');
      answer.destroy();

      expect((await read(origin, 10)).length).toBe(10);
      expect(connections()).toBe(2);
    });
  });

  it('decodes a chunked body whose framing arrives split across reads, and one that ends at the close', async () => {
    const { origin } = await rawServer((socket) =>
      writeApart(socket, ['HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n7', '\r\n<Erro', 'r>\r', '\n', '1E;ext=1\r\n<Code>NoSuchKey</Code></Error>\r\n0\r\nx-trailer: a\r\n', '\r\n']).then(() =>
        socket.end(),
      ),
    );
    const { origin: closing } = await rawServer((socket) => writeApart(socket, ['HTTP/1.1 200 OK\r\n\r\nuntil ', 'the close']).then(() => socket.end()));

    const chunked = await get(origin);
    const untilClose = await get(closing);

    expect(chunked.statusCode).toBe(404);
    expect((await bodyOf(chunked)).bytes.toString()).toBe('<Error><Code>NoSuchKey</Code></Error>');
    expect((await bodyOf(untilClose)).bytes.toString()).toBe('until the close');
  });

  it('passes on a chunk that is not full when the source pauses, so a slow source still flows', async () => {
    let send = (): void => undefined;
    const { origin } = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst');
      send = () => socket.end('-last');
    });
    const answer = await get(origin);

    const [first] = (await once(answer, 'data')) as [Buffer];
    send();
    const rest = await bodyOf(answer);

    expect(first.toString()).toBe('first');
    expect(rest.bytes.toString()).toBe('-last');
  });

  it('skips an interim 100 Continue and reads the answer after it', async () => {
    const { origin } = await rawServer((socket) => writeApart(socket, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']));

    const answer = await get(origin);

    expect(answer.statusCode).toBe(200);
    expect((await bodyOf(answer)).bytes.toString()).toBe('ok');
  });

  it('fails the body, as a reset connection, when the connection closes before its length', async () => {
    const { origin } = await rawServer((socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n'), patternBytes(40_000)])));

    const answer = await get(origin);

    await expect(bodyOf(answer)).rejects.toMatchObject({ code: 'ECONNRESET', message: expect.stringMatching(/closed before the answer's body ended/) });
  });

  it('fails a body that ends at the close when the connection is reset instead', async () => {
    const { origin } = await rawServer(async (socket) => {
      await writeApart(socket, ['HTTP/1.1 200 OK\r\n\r\n', 'the first bytes']);
      socket.resetAndDestroy();
    });

    const answer = await get(origin);

    await expect(bodyOf(answer)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('fails when the connection closes before an answer, or is refused', async () => {
    const { origin } = await rawServer((socket) => socket.end());
    const closed = new URL('http://127.0.0.1:1');

    await expect(get(origin)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(get(closed)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it.each([
    ['a status line that is not HTTP/1.1', 'HTTP/2 200\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello'],
    ['a folded header line', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\nContent-Length: 0\r\n\r\n'],
    ['Content-Lengths that disagree', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ])('refuses an answer with %s', async (_case, raw) => {
    const { origin } = await rawServer((socket) => socket.end(raw));

    await expect(get(origin)).rejects.toBeInstanceOf(MalformedResponseError);
  });

  it('fails the body of a chunked answer whose chunk does not end where its size says', async () => {
    const { origin } = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n'));

    const answer = await get(origin);

    await expect(bodyOf(answer)).rejects.toBeInstanceOf(MalformedResponseError);
  });

  it('refuses to send a header whose value would start another line', async () => {
    const { origin, requests } = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));

    await expect(get(origin, { 'if-match': '"v1"\r\nX-Injected: 1' })).rejects.toThrow(/control character/);
    expect(requests).toEqual([]);
  });

  it('stops reading when its signal aborts, before or during the body', async () => {
    const { origin } = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nsome'));
    const controller = new AbortController();

    const answer = await get(origin, {}, controller.signal);
    const body = bodyOf(answer);
    controller.abort();

    await expect(body).rejects.toMatchObject({ name: 'AbortError' });
    await expect(get(origin, {}, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('holds the socket while the reader does not read, and gives every byte once it does', async () => {
    const bytes = patternBytes(128 * reusedChunkBytes, 9);
    let written = 0;
    const { origin } = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\n\r\n`);
      const pump = (): void => {
        while (written < bytes.length) {
          const piece = bytes.subarray(written, written + 65_536);
          written += piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });

    const answer = await get(origin);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const writtenWhilePaused = written;
    const { bytes: body } = await bodyOf(answer);

    expect(writtenWhilePaused).toBeLessThan(bytes.length);
    expect(body.equals(bytes)).toBe(true);
  });
});
