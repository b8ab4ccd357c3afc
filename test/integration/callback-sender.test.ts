import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendCallback } from '../../shared/delivery/callback.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';

/** A receiver that answers every callback 200 with the body its path asks for, counting its connections. */
let server: Server;
let base: string;
let connections = 0;
const closed: Promise<void>[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url === '/endless') {
        // An answer that never ends: the sender must not read it to its end.
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const more = (): void => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', more);
        };
        more();
        return;
      }
      if (request.url === '/stalled') {
        // An answer whose body stops coming after its first bytes.
        response.writeHead(200, { 'content-type': 'application/json' }).write('{"rec');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  connections = 0;
  closed.length = 0;
});

const options = () => ({ signingKey: async () => 'key', network: outboundNetwork({ allowPrivateNetworks: true }), attempts: 1 });

describe('Function: sendCallback', () => {
  it('sends the next callback on the connection of the last when the receiver answered with a body', async () => {
    // Prepare
    const sending = options();

    // Act
    const first = await sendCallback(`${base}/hook`, { token: 'a' }, sending);
    const second = await sendCallback(`${base}/hook`, { token: 'b' }, sending);

    // Assess
    expect([first.state, second.state]).toEqual(['sent', 'sent']);
    expect(connections).toBe(1);
  });

  it('counts a 2xx whose answer never ends as sent, and cuts that answer off', async () => {
    // Act
    const outcome = await sendCallback(`${base}/endless`, { token: 'c' }, options());

    // Assess: the connection closes, not held by an answer read forever.
    expect(outcome).toMatchObject({ state: 'sent', status: 200 });
    await expect(Promise.all(closed)).resolves.toBeDefined();
  });

  it('counts a 2xx whose answer stalls as sent once the callback timeout has passed', async () => {
    // Act
    const outcome = await sendCallback(`${base}/stalled`, { token: 'd' }, { ...options(), timeoutMilliseconds: 300 });

    // Assess
    expect(outcome).toMatchObject({ state: 'sent', status: 200 });
    await expect(Promise.all(closed)).resolves.toBeDefined();
  });
});
