import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { relay, type ByteFault, type SlowLink } from './relay.ts';
import { RuleBook, type ArmedRule } from './rules.ts';

/** A request as the proxy sees it arrive, before any of its body. */
export interface RequestHead {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /**
   * A URL-encoded form body's fields, read before the request is passed on, on a proxy that reads
   * forms (`readForms`): where an API says what a request does in its body (Graph's `upload_phase`).
   */
  readonly form?: URLSearchParams;
}

/** What the proxy does to one request instead of passing it through untouched. */
export type HttpFault =
  /** Answers in the server's place (a 500, a 503, a 429 with `Retry-After`, a throttling error); the server sees nothing. */
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }
  /** Breaks the connection once `afterBytes` bytes of the request body (or of the answer) have passed. */
  | ({ readonly direction: 'request' | 'response' } & Extract<ByteFault, { kind: 'reset' }>)
  /** Stops passing the request body (or the answer) on after `afterBytes`: the server stops reading, or sending. */
  | ({ readonly direction: 'request' | 'response' } & Extract<ByteFault, { kind: 'stall' }>)
  /** Holds the request back before passing it on. */
  | { readonly kind: 'delay'; readonly milliseconds: number }
  /** Passes the request body on over a slow link (shared by every request given the same link). */
  | { readonly kind: 'slow'; readonly link: SlowLink }
  /** Lets the server do the work and answer, then breaks the connection instead of passing the answer on. */
  | { readonly kind: 'lose-answer' };

export type HttpFaultRule = ArmedRule<RequestHead, HttpFault>;

/** One request through the proxy, from the server's side of it. */
export interface ProxiedExchange extends RequestHead {
  readonly startedAt: number;
  endedAt: number | undefined;
  /** The server's status (or the one the proxy answered in its place). */
  status: number | undefined;
  /** Request body bytes passed on to the server. */
  requestBytes: number;
  /** Answer body bytes passed on to the client. */
  responseBytes: number;
  /** The label of the fault acted out on it. */
  fault: string | undefined;
  /** The server's answer body (whether or not it reached the client), for exchanges `recordAnswers` picks. */
  answer: string | undefined;
  /** When a stall fault stopped it (from then on the server cannot tell whether its client is still there). */
  stalledAt: number | undefined;
  /**
   * When the client's function environment ended while this was open (a crash, a timeout, a
   * restart): a proxy that has stopped reading from a client cannot see it leave, the request stays
   * open at the server for a while, but nobody is sending it any more.
   */
  clientGoneAt: number | undefined;
  /** How it ended: answered; `broken` when either side's connection ended first. */
  outcome: 'open' | 'answered' | 'broken';
}

export interface HttpFaultProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly exchanges: ProxiedExchange[];
  readonly rules: RuleBook<RequestHead, HttpFault>;
  arm(rule: HttpFaultRule): void;
  /** Where requests go from now on (a server started after the proxy, or restarted on another port). */
  setUpstream(port: number): void;
  /** Notes that every client with a request open now is gone (its function environment ended). */
  clientsGone(): void;
  close(): Promise<void>;
}

export interface HttpFaultProxyOptions {
  /** The server's port on 127.0.0.1; set later with `setUpstream` when the server needs the proxy's address first. */
  readonly upstreamPort?: number;
  /** Keep only the exchanges this says to (a load of small requests need not be kept whole). @default every one */
  readonly record?: (head: RequestHead) => boolean;
  /** Keep the answer body (its first 64 KiB) of the exchanges this says to. @default none */
  readonly recordAnswers?: (head: RequestHead) => boolean;
  /** How long the server waits on a request body stalled for good before it gives up on it. @default 30000 */
  readonly serverIdleMs?: number;
  /** Read each small URL-encoded form body (up to 64 KiB) before the rules are asked, so they see its fields (`form`). @default false */
  readonly readForms?: boolean;
}

/** Largest form body a proxy that reads forms reads before passing it on. */
const formLimit = 64 * 1024;

/** Whether a request carries a small URL-encoded form, whole in its announced length. */
function carriesSmallForm(incoming: IncomingMessage): boolean {
  const length = Number(incoming.headers['content-length']);
  return /^application\/x-www-form-urlencoded\b/i.test(incoming.headers['content-type'] ?? '') && Number.isInteger(length) && length > 0 && length <= formLimit;
}

/** Most answer bytes kept per exchange. */
const answerLimit = 64 * 1024;

/** Breaks a connection as a crashed peer or a middlebox does: an RST, not an orderly close. */
export function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/**
 * An HTTP/1.1 reverse proxy on 127.0.0.1 in front of one server, with faults a scenario arms per
 * request: answers in the server's place, resets and stalls at a byte offset of the request body
 * or the answer, delays, and answers lost after the server did the work. `Expect: 100-continue`
 * passes through as the server answers it. Every exchange is recorded, with the body bytes that
 * reached the server.
 */
export async function startHttpFaultProxy(options: HttpFaultProxyOptions = {}): Promise<HttpFaultProxy> {
  let upstreamPort = options.upstreamPort;
  const exchanges: ProxiedExchange[] = [];
  const rules = new RuleBook<RequestHead, HttpFault>();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  /** Reads a small form whole (a client that waits for 100 Continue sends nothing yet: it is not read), then handles it. */
  const receive = (incoming: IncomingMessage, outgoing: ServerResponse, expectsContinue: boolean): void => {
    if (!options.readForms || expectsContinue || !carriesSmallForm(incoming)) {
      handle(incoming, outgoing, expectsContinue, incoming, undefined);
      return;
    }
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => {
      const body = Buffer.concat(chunks);
      handle(incoming, outgoing, expectsContinue, Readable.from([body]), new URLSearchParams(body.toString('utf8')));
    });
  };

  /** Handles a request whose body comes from `body` (the request itself, or the form read from it). */
  const handle = (incoming: IncomingMessage, outgoing: ServerResponse, expectsContinue: boolean, body: Readable, form: URLSearchParams | undefined): void => {
    const url = new URL(incoming.url ?? '/', 'http://proxy.local');
    const head: RequestHead = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      ...(form ? { form } : {}),
    };
    const exchange: ProxiedExchange = {
      ...head,
      startedAt: Date.now(),
      endedAt: undefined,
      status: undefined,
      requestBytes: 0,
      responseBytes: 0,
      fault: undefined,
      answer: undefined,
      stalledAt: undefined,
      clientGoneAt: undefined,
      outcome: 'open',
    };
    if (options.record?.(head) ?? true) exchanges.push(exchange);
    const end = (outcome: 'answered' | 'broken'): void => {
      if (exchange.outcome !== 'open') return;
      exchange.outcome = outcome;
      exchange.endedAt = Date.now();
    };
    outgoing.once('finish', () => end('answered'));
    outgoing.once('close', () => end('broken'));
    const taken = rules.take(head);
    exchange.fault = taken?.label;
    const fault = taken?.fault;
    if (fault?.kind === 'answer') {
      const answer = (): void => {
        exchange.status = fault.status;
        const body = fault.body ?? '';
        outgoing.writeHead(fault.status, { 'content-length': String(Buffer.byteLength(body)), ...fault.headers });
        outgoing.end(body);
      };
      // Without a 100 Continue the client sends no body: the answer is final at once.
      if (expectsContinue) answer();
      else {
        body.resume();
        body.once('end', answer);
      }
      return;
    }
    const forward = (): void => passOn(incoming, body, outgoing, exchange, fault, expectsContinue);
    if (fault?.kind === 'delay') setTimeout(forward, fault.milliseconds);
    else forward();
  };

  const passOn = (incoming: IncomingMessage, body: Readable, outgoing: ServerResponse, exchange: ProxiedExchange, fault: HttpFault | undefined, expectsContinue: boolean): void => {
    if (upstreamPort === undefined) {
      outgoing.writeHead(502).end('no upstream');
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: incoming.method, path: incoming.url, headers: incoming.headers, agent });
    const cut = (): void => {
      resetSocket(incoming.socket);
      upstream.destroy();
    };
    const timers: (() => void)[] = [];
    const stopTimers = (): void => {
      for (const stop of timers) stop();
    };
    // The client gave up (its idle timeout, its deadline): so does the request to the server.
    outgoing.once('close', () => {
      stopTimers();
      if (!outgoing.writableFinished) upstream.destroy();
    });
    upstream.once('error', () => {
      stopTimers();
      resetSocket(incoming.socket);
    });
    if (expectsContinue) upstream.once('continue', () => outgoing.writeContinue());
    const requestFault = fault && 'direction' in fault && fault.direction === 'request' ? fault : undefined;
    const link = fault?.kind === 'slow' ? fault.link : undefined;
    timers.push(
      relay(body, upstream, {
        onBytes: (bytes) => (exchange.requestBytes += bytes),
        fault: requestFault,
        cut,
        onFault: (fired) => {
          if (fired.kind === 'stall') exchange.stalledAt = Date.now();
        },
        serverIdleMs: options.serverIdleMs ?? 30_000,
        // More than the kernel's socket buffers hold, so a client that gives up is seen to at once.
        readAheadBytes: 8 * 1024 * 1024,
        ...(link ? { link } : {}),
      }),
    );
    upstream.once('response', (answer) => {
      exchange.status = answer.statusCode;
      if (options.recordAnswers?.(exchange)) {
        exchange.answer = '';
        answer.on('data', (chunk: Buffer) => {
          if (exchange.answer!.length < answerLimit) exchange.answer += chunk.toString('utf8', 0, Math.min(chunk.length, answerLimit - exchange.answer!.length));
        });
      }
      if (fault?.kind === 'lose-answer') {
        answer.resume();
        answer.once('end', () => resetSocket(incoming.socket));
        return;
      }
      const responseFault = fault && 'direction' in fault && fault.direction === 'response' ? fault : undefined;
      if (responseFault?.afterBytes === 0) {
        // Nothing of the answer, not even its status: the server did the work and went silent.
        withhold(answer, incoming, outgoing, responseFault);
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      timers.push(
        relay(answer, outgoing, {
          onBytes: (bytes) => (exchange.responseBytes += bytes),
          fault: responseFault,
          cut: () => {
            resetSocket(incoming.socket);
            answer.destroy();
          },
        }),
      );
    });
  };

  /** Holds a whole answer back: a reset breaks the connection, a stall sends it late (or never). */
  const withhold = (answer: IncomingMessage, incoming: IncomingMessage, outgoing: ServerResponse, fault: Extract<HttpFault, { direction: 'request' | 'response' }>): void => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    if (fault.kind === 'reset') {
      answer.once('end', () => resetSocket(incoming.socket));
      return;
    }
    if (fault.milliseconds === undefined) return;
    const ended = new Promise((resolve) => answer.once('end', resolve));
    const release = setTimeout(() => {
      void ended.then(() => {
        if (outgoing.destroyed) return;
        outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        outgoing.end(Buffer.concat(chunks));
      });
    }, fault.milliseconds);
    outgoing.once('close', () => clearTimeout(release));
  };

  const server = createServer((incoming, outgoing) => receive(incoming, outgoing, false));
  // Without this listener Node answers every Expect itself; the server behind must answer it.
  server.on('checkContinue', (incoming, outgoing) => receive(incoming, outgoing, true));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    exchanges,
    rules,
    arm: (rule) => rules.arm(rule),
    clientsGone: () => {
      const now = Date.now();
      for (const exchange of exchanges) if (exchange.outcome === 'open') exchange.clientGoneAt ??= now;
    },
    setUpstream: (next) => {
      upstreamPort = next;
      agent.destroy();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
