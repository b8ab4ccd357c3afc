import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http-servers.ts';
import { startHttpFaultProxy, type HttpFaultProxy } from './http-fault-proxy.ts';
import { SlowLink } from './relay.ts';
import { startTcpFaultProxy } from './tcp-fault-proxy.ts';

/** What the server behind the proxy saw of each request. */
interface Seen {
  url: string;
  bytes: number;
  complete: boolean;
}

let server: TestServer;
let proxy: HttpFaultProxy;
const seen: Seen[] = [];

beforeAll(async () => {
  server = await startTestServer((request, response) => {
    const record: Seen = { url: request.url ?? '', bytes: 0, complete: false };
    seen.push(record);
    request.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
    request.on('end', () => {
      record.complete = true;
      response.writeHead(201, { 'content-type': 'text/plain', 'x-server': 'behind' }).end(`stored ${record.bytes}`);
    });
  });
  proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(server.url).port) });
});

afterAll(async () => {
  await proxy.close();
  await server.close();
});

afterEach(() => {
  proxy.rules.clear();
  seen.length = 0;
});

/** PUTs `size` bytes through the proxy; resolves with the answer, or the error the client met. */
function put(path: string, size: number, options: { expectContinue?: boolean; timeoutMs?: number } = {}): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] } | { error: string }> {
  return new Promise((resolve) => {
    const request = httpRequest(`${proxy.url}${path}`, {
      method: 'PUT',
      headers: { 'content-length': String(size), ...(options.expectContinue ? { expect: '100-continue' } : {}) },
      timeout: options.timeoutMs ?? 5000,
    });
    request.on('timeout', () => request.destroy(new Error('client timed out')));
    request.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: response.headers }));
      response.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    });
    const send = (): void => {
      request.end(Buffer.alloc(size, 7));
    };
    if (options.expectContinue) request.once('continue', send);
    else send();
  });
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

describe('Function: startHttpFaultProxy', () => {
  it('passes requests and answers through untouched, recording the bytes that reached the server', async () => {
    const answer = await put('/a', 100_000);

    expect(answer).toMatchObject({ status: 201, body: 'stored 100000', headers: { 'x-server': 'behind' } });
    expect(proxy.exchanges.at(-1)).toMatchObject({ method: 'PUT', path: '/a', status: 201, requestBytes: 100_000, outcome: 'answered', fault: undefined });
  });

  it("answers in the server's place without the server seeing the request", async () => {
    proxy.arm({ label: '503', fault: { kind: 'answer', status: 503, headers: { 'retry-after': '2' }, body: 'busy' } });

    const answer = await put('/b', 1000);

    expect(answer).toMatchObject({ status: 503, body: 'busy', headers: { 'retry-after': '2' } });
    expect(seen).toEqual([]);
    expect(proxy.rules.fired.get('503')).toBe(1);
  });

  it('resets an upload at its byte offset: the server gets exactly the bytes before it, the client a broken connection', async () => {
    proxy.arm({ label: 'reset', match: (head) => head.path === '/c', fault: { kind: 'reset', direction: 'request', afterBytes: 40_000 } });

    const answer = await put('/c', 200_000);
    await settle();

    expect(answer).toHaveProperty('error');
    expect(seen).toEqual([{ url: '/c', bytes: 40_000, complete: false }]);
    expect(proxy.exchanges.at(-1)).toMatchObject({ requestBytes: 40_000, outcome: 'broken' });
  });

  it('loses the answer after the server did the work', async () => {
    proxy.arm({ label: 'lost', fault: { kind: 'lose-answer' } });

    const answer = await put('/d', 5000);

    expect(answer).toHaveProperty('error');
    expect(seen).toEqual([{ url: '/d', bytes: 5000, complete: true }]);
    expect(proxy.exchanges.at(-1)).toMatchObject({ status: 201, outcome: 'broken' });
  });

  it('withholds a whole answer until the client gives up', async () => {
    proxy.arm({ label: 'silent', fault: { kind: 'stall', direction: 'response', afterBytes: 0 } });

    const answer = await put('/e', 5000, { timeoutMs: 300 });

    expect(answer).toEqual({ error: 'client timed out' });
    expect(seen).toEqual([{ url: '/e', bytes: 5000, complete: true }]);
  });

  it('stalls a request body for a while, then lets it through', async () => {
    proxy.arm({ label: 'stall', fault: { kind: 'stall', direction: 'request', afterBytes: 1000, milliseconds: 300 } });
    const started = Date.now();

    const answer = await put('/f', 50_000);

    expect(answer).toMatchObject({ status: 201, body: 'stored 50000' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('passes Expect: 100-continue through, the server answering it', async () => {
    const answer = await put('/g', 10_000, { expectContinue: true });

    expect(answer).toMatchObject({ status: 201, body: 'stored 10000' });
  });

  it('passes a body over a slow link no faster than the link allows', async () => {
    proxy.arm({ label: 'slow', fault: { kind: 'slow', link: new SlowLink(1024 * 1024) } });
    const started = Date.now();

    await put('/h', 512 * 1024);

    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('leaves requests no rule matches alone', async () => {
    proxy.arm({ label: 'only /x', match: (head) => head.path === '/x', fault: { kind: 'answer', status: 500 } });

    expect(await put('/i', 10)).toMatchObject({ status: 201 });
    expect(await put('/x', 10)).toMatchObject({ status: 500 });
  });
});

describe('Function: startTcpFaultProxy', () => {
  it('resets a connection once its byte offset has passed upstream, and gives a fault back when the connection closes first', async () => {
    // Prepare: an echo server that counts what reaches it per connection.
    const received: number[] = [];
    const echo = createServer((socket) => {
      const index = received.push(0) - 1;
      socket.on('data', (chunk) => (received[index]! += chunk.length));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const tcp = await startTcpFaultProxy((echo.address() as AddressInfo).port);
    tcp.arm({ label: 'reset', fault: { kind: 'reset', direction: 'up', afterBytes: 30_000 } });
    const send = (bytes: number): Promise<string> =>
      new Promise((resolve) => {
        const socket: Socket = connect({ host: tcp.host, port: tcp.port }, () => {
          socket.write(Buffer.alloc(bytes), () => setTimeout(() => socket.end(), 100));
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        socket.on('close', () => resolve('closed'));
      });

    // Act: a short connection, which the fault passes over, then a long one.
    const short = await send(10_000);
    const long = await send(100_000);
    await settle();

    // Assess
    expect(short).toBe('closed');
    expect(long).toBe('ECONNRESET');
    expect(received).toEqual([10_000, 30_000]);
    expect(tcp.connections.map((connection) => connection.faultFired)).toEqual([false, true]);
    await tcp.close();
    await new Promise((resolve) => echo.close(resolve));
  });
});

describe('Function: startHttpFaultProxy, reading forms', () => {
  it("lets rules match a URL-encoded form's fields, and passes the form on whole", async () => {
    // Prepare: a proxy that reads forms, a rule aimed at one field's value.
    const bodies: string[] = [];
    const formServer = await startTestServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      });
    });
    const forms = await startHttpFaultProxy({ upstreamPort: Number(new URL(formServer.url).port), readForms: true });
    forms.arm({ label: 'finish lost', match: (head) => head.form?.get('upload_phase') === 'finish', fault: { kind: 'lose-answer' } });
    const post = (form: string): Promise<number | string> =>
      fetch(`${forms.url}/videos`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }).then(
        (response) => response.status,
        () => 'broken',
      );

    // Act
    const start = await post('upload_phase=start&file_size=10');
    const finish = await post('upload_phase=finish&upload_session_id=7&title=a+b');

    // Assess: the start passed, the finish reached the server whole and its answer was lost.
    expect([start, finish]).toEqual([200, 'broken']);
    expect(bodies).toEqual(['upload_phase=start&file_size=10', 'upload_phase=finish&upload_session_id=7&title=a+b']);
    expect(forms.exchanges.map((exchange) => [exchange.form?.get('upload_phase'), exchange.requestBytes])).toEqual([
      ['start', 31],
      ['finish', 49],
    ]);
    await forms.close();
    await formServer.close();
  });
});

describe('Function: startTcpFaultProxy, on further ports', () => {
  it('passes each further port on to the same port of the server, recording which port a connection came in on', async () => {
    // Prepare: a server on two ports that says which one a connection reached, and a proxy on another loopback address.
    const servers = await Promise.all(
      [0, 0].map(async () => {
        const named = createServer((socket) => socket.end(String((named.address() as AddressInfo).port)));
        await new Promise<void>((resolve) => named.listen(0, '127.0.0.1', resolve));
        return named;
      }),
    );
    const [control, data] = servers.map((each) => (each.address() as AddressInfo).port) as [number, number];
    const tcp = await startTcpFaultProxy(control, { host: '127.0.0.3', alsoPorts: [data] });
    const answerAt = (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.3', port });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });

    // Act
    const viaOwnPort = await answerAt(tcp.port);
    const viaDataPort = await answerAt(data);

    // Assess
    expect([viaOwnPort, viaDataPort]).toEqual([String(control), String(data)]);
    expect(tcp.connections.map((connection) => connection.port)).toEqual([tcp.port, data]);
    await tcp.close();
    await Promise.all(servers.map((each) => new Promise((resolve) => each.close(resolve))));
  });
});

describe('Function: startTcpFaultProxy, going down', () => {
  it('resets the connections open now, and leaves later ones alone', async () => {
    // Prepare: a server that holds each connection open.
    const held = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const tcp = await startTcpFaultProxy((held.address() as AddressInfo).port);
    const open = (): Promise<{ socket: Socket; ended: Promise<string> }> =>
      new Promise((resolve) => {
        const socket = connect({ host: tcp.host, port: tcp.port }, () => {
          const ended = new Promise<string>((settle) => {
            socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
            socket.on('close', () => settle('closed'));
          });
          resolve({ socket, ended });
        });
      });
    const before = await open();
    await settle();

    // Act
    tcp.resetOpen();
    const after = await open();
    await settle();

    // Assess
    expect(await before.ended).toBe('ECONNRESET');
    expect(after.socket.destroyed).toBe(false);
    after.socket.destroy();
    await tcp.close();
    await new Promise((resolve) => held.close(resolve));
  });
});

describe('Function: startHttpFaultProxy, a stall without end', () => {
  it('gives the stalled request up at the server after its idle timeout, as the server would', async () => {
    // Prepare: a body large enough to fill the buffers, so the stalled client side cannot be read to its end.
    let upstreamAborted = false;
    const watched = await startTestServer((request) => {
      request.on('close', () => (upstreamAborted = !request.complete));
      request.resume();
    });
    const front = await startHttpFaultProxy({ upstreamPort: Number(new URL(watched.url).port), serverIdleMs: 300 });
    front.arm({ label: 'stall', fault: { kind: 'stall', direction: 'request', afterBytes: 1000 } });

    // Act
    const answer = await new Promise<string>((resolve) => {
      const request = httpRequest(`${front.url}/stalled`, { method: 'PUT', headers: { 'content-length': String(8 * 1024 * 1024) } });
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      request.on('response', (response) => resolve(String(response.statusCode)));
      request.end(Buffer.alloc(8 * 1024 * 1024));
    });
    await settle();

    // Assess
    expect(answer).toBe('ECONNRESET');
    expect(upstreamAborted).toBe(true);
    await front.close();
    await watched.close();
  });
});

describe('Function: startHttpFaultProxy, clients gone', () => {
  it('marks the requests open now as left by their client, and leaves answered ones alone', async () => {
    // Prepare: a server that answers a request only when told to.
    const waiting: (() => void)[] = [];
    const holding = await startTestServer((request, response) => {
      request.resume();
      waiting.push(() => response.end('late'));
    });
    const front = await startHttpFaultProxy({ upstreamPort: Number(new URL(holding.url).port) });
    const get = (path: string): Promise<number> => fetch(`${front.url}${path}`).then((answer) => answer.text().then(() => answer.status));
    const answered = get('/answered');
    while (waiting.length < 1) await settle();
    waiting.shift()!();
    await answered;
    const held = get('/held');
    while (waiting.length < 1) await settle();

    // Act
    front.clientsGone();

    // Assess
    const [first, second] = front.exchanges;
    expect(first).toMatchObject({ path: '/answered', outcome: 'answered', clientGoneAt: undefined });
    expect(second).toMatchObject({ path: '/held', outcome: 'open', clientGoneAt: expect.any(Number) });
    waiting.shift()!();
    await held;
    await front.close();
    await holding.close();
  });
});
