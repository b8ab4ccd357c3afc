import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exchange, type RecordedRequest } from './exchange.ts';
import { type ArmedFailure, Faults } from './faults.ts';

/** One operation of a provider's API: which requests it serves and what it does with them. */
export interface Route {
  /** The fake's name for the operation, used to count requests and aim faults. */
  readonly endpoint: string;
  readonly method: string;
  /** Matched against the whole path; its capture groups are handed to `handle`. */
  readonly path: RegExp;
  handle(exchange: Exchange, ...captures: string[]): Promise<void> | void;
}

/** How a provider speaks when nothing of its API matches, and when a fault stands in for an answer. */
export interface ProviderDialect {
  /** Rewrites a path before matching, e.g. to drop an API version prefix. */
  readonly normalizePath?: (path: string) => string;
  answerUnknownRoute(exchange: Exchange): void;
  answerFailure(exchange: Exchange, failure: ArmedFailure): void;
  /** Answers a handler's unexpected exception (a bug in the fake, shown to the test as a 500). */
  answerInternalError(exchange: Exchange, error: unknown): void;
}

/** What every fake offers: its address, its request log and its fault switches. */
export interface FakeServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request in arrival order, with the status it was answered. */
  readonly requests: readonly RecordedRequest[];
  /** How many requests reached `endpoint` (every endpoint when omitted). */
  requestCount(endpoint?: string): number;
  readonly faults: Faults;
  /** Stops the server and removes every stored byte. */
  close(): Promise<void>;
}

/** A started fake server, with the temp folder its uploaded bytes live in. */
export interface StartedFakeServer extends FakeServer {
  readonly directory: string;
}

/**
 * Starts a loopback HTTP server for one provider's routes. Upload bytes go to files under a temp
 * folder removed on close, so a large upload costs disk, not memory.
 */
export async function startFakeServer(routes: readonly Route[], dialect: ProviderDialect): Promise<StartedFakeServer> {
  const directory = await mkdtemp(join(tmpdir(), 'upload-fake-'));
  const faults = new Faults();
  const requests: RecordedRequest[] = [];

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake.local');
    const method = request.method ?? 'GET';
    const path = dialect.normalizePath ? dialect.normalizePath(url.pathname) : url.pathname;
    let captures: string[] = [];
    const route = routes.find((candidate) => {
      if (candidate.method !== method) return false;
      const match = candidate.path.exec(path);
      captures = match ? match.slice(1).map((capture) => decodedOrRaw(capture ?? '')) : [];
      return match !== null;
    });
    const record: RecordedRequest = { endpoint: route?.endpoint ?? 'unknown', method, path: url.pathname, query: url.searchParams, headers: request.headers };
    requests.push(record);
    const exchange = new Exchange(request, response, url, record, faults);
    if (!route) {
      dialect.answerUnknownRoute(exchange);
      return;
    }
    const failure = faults.takeFailure(route.endpoint);
    if (failure) {
      dialect.answerFailure(exchange, failure);
      return;
    }
    exchange.takeLostAnswerFault();
    Promise.resolve()
      .then(() => route.handle(exchange, ...captures))
      .catch((error: unknown) => dialect.answerInternalError(exchange, error))
      .finally(() => exchange.finish());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    directory,
    requests,
    requestCount: (endpoint) => (endpoint === undefined ? requests.length : requests.filter((entry) => entry.endpoint === endpoint).length),
    faults,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A path segment percent-decoded, or as sent when its encoding is broken (the route then finds nothing). */
function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
