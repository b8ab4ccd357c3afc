import { createServer, get, type Agent, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Socket as NetSocket, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { sendCallback } from '../../shared/delivery/callback.ts';
import { PermanentError } from '../../shared/errors.ts';
import { isAllowedAddress } from '../../shared/net/address-policy.ts';
import { AddressNotAllowedError } from '../../shared/net/address-not-allowed-error.ts';
import { guardedHttpAgent, guardedHttpsAgent } from '../../shared/net/guarded-agents.ts';
import { guardedConnect, guardedTlsConnect, type NetworkPolicy } from '../../shared/net/guarded-connect.ts';
import { outboundNetwork, type OutboundNetwork } from '../../shared/net/outbound-network.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { patternBytes, sourceOf, uploadContext } from '../support/sources.ts';

/** These tests open URL sources only: a staging object read fails the test. */
const noStagingObjects = (): Promise<never> => Promise.reject(new Error('no staging object is read here'));

/** A loopback server that counts TCP connections, so a test can tell that none was made. */
let server: Server;
let port: number;
let connections = 0;
let requests = 0;
/** Dispatchers and agents a test made, closed after it. */
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests += 1;
    if (request.url === '/to-file') {
      response.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    }
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  connections = 0;
  requests = 0;
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/**
 * DNS rebinding, made to order: the first answer is public (what a resolve-then-connect guard
 * checks), every later one is 127.0.0.1 (what such a guard's connection then reaches).
 */
function rebindingResolver(): LookupFunction & { calls: () => number } {
  let calls = 0;
  const resolve: LookupFunction = (_hostname, options, callback) => {
    calls += 1;
    const address = calls === 1 ? '93.184.215.14' : '127.0.0.1';
    if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
  return Object.assign(resolve, { calls: () => calls });
}

/** The check a resolve-first guard makes: the first answer, which the rebinding resolver makes public. */
async function precheck(resolve: LookupFunction, hostname: string): Promise<string> {
  const [first] = (await promisify(resolve)(hostname, { all: true })) as unknown as { address: string }[];
  return first?.address ?? '';
}

function networkFor(policy: NetworkPolicy): OutboundNetwork {
  const network = outboundNetwork(policy);
  closers.push(async () => {
    network.agents.http.destroy();
    network.agents.https.destroy();
  });
  return network;
}

function agentFor(make: () => Agent): Agent {
  const agent = make();
  closers.push(() => agent.destroy());
  return agent;
}

/** What a request through `agent` ended in: its status, or its error. */
function httpGet(url: string, agent: Agent, lookup?: LookupFunction): Promise<number | Error> {
  return new Promise((resolve) => {
    const request = (url.startsWith('https:') ? httpsGet : get)(url, { agent, ...(lookup ? { lookup } : {}) }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', resolve);
  });
}

/** What a socket ended in: connected, or its error. */
function outcomeOf(socket: Socket): Promise<'connected' | Error> {
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('secureConnect', () => resolve('connected'));
    socket.once('error', resolve);
  });
}

describe('Guarded fetch (the network\'s agents)', () => {
  it('refuses a name that rebinds to 127.0.0.1 after a public first answer, and the server sees no connection', async () => {
    // Prepare
    const resolve = rebindingResolver();
    const network = networkFor({ allowPrivateNetworks: false, resolve });
    expect(isAllowedAddress(await precheck(resolve, 'rebind.test'))).toBe(true);

    // Act
    const error = await network.fetch(`http://rebind.test:${port}/file.mp4`).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AddressNotAllowedError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', host: 'rebind.test', address: '127.0.0.1' });
    expect(resolve.calls()).toBe(2);
    expect(connections).toBe(0);
  });

  it('reaches the server through the same rebinding name when private networks are allowed', async () => {
    // Prepare
    const resolve = rebindingResolver();
    const network = networkFor({ allowPrivateNetworks: true, resolve });
    await precheck(resolve, 'rebind.test');

    // Act
    const response = await network.fetch(`http://rebind.test:${port}/file.mp4`);

    // Assess
    expect(await response.text()).toBe('ok');
    expect(requests).toBe(1);
  });

  it('refuses the IP literal 127.0.0.1, which no lookup is asked about, without connecting', async () => {
    const network = networkFor({ allowPrivateNetworks: false });

    const error = await network.fetch(`http://127.0.0.1:${port}/`).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', host: '127.0.0.1', address: '127.0.0.1' });
    expect(connections).toBe(0);
  });

  it('refuses a bracketed IPv6 loopback literal', async () => {
    const network = networkFor({ allowPrivateNetworks: false });

    const error = await network.fetch(`http://[::1]:${port}/`).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', address: '::1' });
  });

  it('allows the IP literal 127.0.0.1 when private networks are allowed', async () => {
    const network = networkFor({ allowPrivateNetworks: true });

    const response = await network.fetch(`http://127.0.0.1:${port}/`);

    expect(response.status).toBe(200);
    expect(requests).toBe(1);
  });
});

describe('Guarded http(s) agents', () => {
  it('refuses a name that rebinds to 127.0.0.1 even when the request brings a lookup of its own', async () => {
    // Prepare
    const resolve = rebindingResolver();
    const agent = agentFor(() => guardedHttpAgent({ allowPrivateNetworks: false, resolve }));
    await precheck(resolve, 'rebind.test');
    const permissive: LookupFunction = (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);

    // Act
    const outcome = await httpGet(`http://rebind.test:${port}/`, agent, permissive);

    // Assess
    expect(outcome).toBeInstanceOf(AddressNotAllowedError);
    expect(outcome).toMatchObject({ host: 'rebind.test', address: '127.0.0.1' });
    expect(connections).toBe(0);
  });

  it('refuses the IP literal 127.0.0.1 over http and https without connecting', async () => {
    const http = agentFor(() => guardedHttpAgent({ allowPrivateNetworks: false }));
    const https = agentFor(() => guardedHttpsAgent({ allowPrivateNetworks: false }));

    const overHttp = await httpGet(`http://127.0.0.1:${port}/`, http);
    const overHttps = await httpGet(`https://127.0.0.1:${port}/`, https);

    expect(overHttp).toBeInstanceOf(AddressNotAllowedError);
    expect(overHttps).toBeInstanceOf(AddressNotAllowedError);
    expect(connections).toBe(0);
  });

  it('refuses the IP literal 127.0.0.1 when its connection is asked for directly, as the socket\'s error', async () => {
    const agent = agentFor(() => guardedHttpAgent({ allowPrivateNetworks: false }));

    const outcome = await outcomeOf(agent.createConnection({ host: '127.0.0.1', port }) as Socket);

    expect(outcome).toBeInstanceOf(AddressNotAllowedError);
    expect(connections).toBe(0);
  });

  it('refuses a Unix socket path', async () => {
    const agent = agentFor(() => guardedHttpAgent({ allowPrivateNetworks: false }));

    const outcome = await new Promise<unknown>((resolve) => {
      get({ socketPath: '/var/run/docker.sock', path: '/containers/json', agent }, resolve).on('error', resolve);
    });

    expect(outcome).toBeInstanceOf(AddressNotAllowedError);
  });

  it('allows the IP literal 127.0.0.1 when private networks are allowed', async () => {
    const agent = agentFor(() => guardedHttpAgent({ allowPrivateNetworks: true }));

    const outcome = await httpGet(`http://127.0.0.1:${port}/`, agent);

    expect(outcome).toBe(200);
  });
});

describe('Guarded sockets', () => {
  it('refuses the IP literal 127.0.0.1 over TCP and TLS without connecting', async () => {
    const policy = { allowPrivateNetworks: false };

    const tcp = await outcomeOf(guardedConnect({ host: '127.0.0.1', port }, policy));
    const tls = await outcomeOf(guardedTlsConnect({ host: '127.0.0.1', port }, policy));

    expect(tcp).toBeInstanceOf(AddressNotAllowedError);
    expect(tls).toBeInstanceOf(AddressNotAllowedError);
    expect(connections).toBe(0);
  });

  it('refuses a rebinding name over TCP', async () => {
    const resolve = rebindingResolver();
    await precheck(resolve, 'rebind.test');

    const outcome = await outcomeOf(guardedConnect({ host: 'rebind.test', port }, { allowPrivateNetworks: false, resolve }));

    expect(outcome).toMatchObject({ code: 'EADDRNOTALLOWED', address: '127.0.0.1' });
    expect(connections).toBe(0);
  });

  it('connects to 127.0.0.1 when private networks are allowed', async () => {
    const outcome = await outcomeOf(guardedConnect({ host: '127.0.0.1', port }, { allowPrivateNetworks: true }));

    expect(outcome).toBe('connected');
  });

  it('makes TCP and TLS sockets that send at once, without Nagle\'s wait for an ACK', async () => {
    const noDelay = vi.spyOn(NetSocket.prototype, 'setNoDelay');
    try {
      const tcp = guardedConnect({ host: '127.0.0.1', port }, { allowPrivateNetworks: true });
      const tls = guardedTlsConnect({ host: '127.0.0.1', port }, { allowPrivateNetworks: true });
      tcp.destroy();
      tls.destroy();

      expect(noDelay.mock.contexts).toEqual(expect.arrayContaining([tcp, tls]));
      expect(noDelay.mock.calls.every(([enable]) => enable === true)).toBe(true);
    } finally {
      noDelay.mockRestore();
    }
  });
});

describe('The service behind the guard', () => {
  it('fails an S3 upload to an endpoint that rebinds to 127.0.0.1, for good, before any request', async () => {
    // Prepare
    const resolve = rebindingResolver();
    const network = outboundNetwork({ allowPrivateNetworks: false, resolve });
    closers.push(async () => network.agents.http.destroy());
    await precheck(resolve, 'rebind.test');
    const destination = s3DestinationSchema.parse({
      type: 's3',
      bucket: 'deliveries',
      filename: 'a.bin',
      endpoint: `http://rebind.test:${port}`,
      aws_access_key_id: 'AKIA',
      aws_secret_access_key: 'secret',
    });

    // Act
    const error = await s3Uploader
      .upload(uploadContext(destination, sourceOf(patternBytes(1000)), { signal: AbortSignal.timeout(10_000), network }))
      .catch((caught: unknown) => s3Uploader.classify(caught));

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', retryable: false });
    expect((error as Error).message).toContain("connection to 'rebind.test' (resolved to 127.0.0.1) refused");
    expect(connections).toBe(0);
  });

  it('lets the same S3 upload reach the server when private networks are allowed', async () => {
    const resolve = rebindingResolver();
    const network = outboundNetwork({ allowPrivateNetworks: true, resolve });
    closers.push(async () => network.agents.http.destroy());
    const destination = s3DestinationSchema.parse({
      type: 's3',
      bucket: 'deliveries',
      filename: 'a.bin',
      endpoint: `http://rebind.test:${port}`,
      aws_access_key_id: 'AKIA',
      aws_secret_access_key: 'secret',
    });

    await s3Uploader.upload(uploadContext(destination, sourceOf(patternBytes(1000)), { signal: AbortSignal.timeout(10_000), network })).catch(() => undefined);

    expect(requests).toBeGreaterThan(0);
  });

  it('fails a source URL whose name rebinds to 127.0.0.1, for good, naming the host', async () => {
    // Prepare
    const resolve = rebindingResolver();
    const network = outboundNetwork({ allowPrivateNetworks: false, resolve });
    closers.push(async () => network.agents.http.destroy());
    const sources = new SourceOpener(noStagingObjects, network, { allowedSourceHosts: [] });
    await precheck(resolve, 'rebind.test');

    // Act
    const error = await sources.open({ url: `http://rebind.test:${port}/render.mp4` }, undefined, AbortSignal.timeout(10_000)).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED' });
    expect((error as Error).message).toContain("'rebind.test' (resolved to 127.0.0.1)");
    expect(connections).toBe(0);
  });

  it('refuses to follow a source redirect out of http(s)', async () => {
    const network = outboundNetwork({ allowPrivateNetworks: true });
    closers.push(async () => network.agents.http.destroy());
    const sources = new SourceOpener(noStagingObjects, network, { allowedSourceHosts: [] });

    const error = await sources.open({ url: `http://127.0.0.1:${port}/to-file` }, undefined, AbortSignal.timeout(10_000)).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'RedirectNotAllowed', retryable: false });
  });

  it('gives up a callback to 127.0.0.1 at the first attempt, since retrying cannot help', async () => {
    // Prepare
    const network = networkFor({ allowPrivateNetworks: false });

    // Act
    const outcome = await sendCallback(`http://127.0.0.1:${port}/hook`, { token: 't' }, { signingKey: async () => 'key', network, attempts: 3, backoffMilliseconds: 1 });

    // Assess
    expect(outcome).toMatchObject({ state: 'failed', attempts: 1 });
    expect(outcome.error).toContain("connection to '127.0.0.1' refused");
    expect(connections).toBe(0);
  });
});
