import type { IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { releaseChunk, reusedChunkBytes, takeChunk } from '../streams/reused-chunks.ts';
import { ChunkedBody } from './chunked-body.ts';
import { guardedConnect, guardedTlsConnect, type NetworkPolicy } from './guarded-connect.ts';
import { basicAuthorization } from './http-client.ts';
import { keepIdle, ReadingSocket, serverKeepAliveMs, takeIdle, type ReadTarget } from './idle-connections.ts';
import { bodyFraming, connectionPersists, MalformedResponseError, parseResponseHead, type BodyFraming, type ResponseHead } from './response-head.ts';

/** A GET of a source's bytes. */
export interface PooledGetRequest {
  /** The server: its protocol (http: or https:), host and port. */
  readonly origin: URL;
  /** The path and query as they go on the request line, escaped. */
  readonly path: string;
  /** The request's headers; Host is the origin's, and no Connection is sent, whatever these say. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Where a GET connects: `tls` over TLS; each socket read lands in `onread`'s buffers. */
export interface ReadingConnection {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly onread: OnReadOpts;
}

/** Opens the connection of a {@link pooledGet}: directly, or through the network guard. */
export type ReadingConnect = (connection: ReadingConnection) => Socket;

/**
 * The TLS settings every GET shares (Node's default trust): `tls.connect` without one makes a new
 * OpenSSL context per connection, and a delivery opens several (one per part in flight, more once
 * kept ones expire). With the context shared and the last session resumed, a handshake on loopback
 * cost 1.5–2.0 ms of CPU instead of 2.7–4.7 (client and server together, 200 connections).
 */
let sharedContext: SecureContext | undefined;
/** The last TLS session of each server, so the next part's handshake resumes it, as Node's agents do. */
const sessions = new Map<string, Buffer>();
/** Servers whose sessions are kept: a function instance reads from many hosts over its life. */
const keptSessions = 100;

function keepSession(server: string, session: Buffer): void {
  sessions.delete(server);
  sessions.set(server, session);
  if (sessions.size > keptSessions) sessions.delete(sessions.keys().next().value!);
}

/** TLS to `host`, named in the handshake unless it is an address, resuming its last session. */
function tlsConnection({ host, port, onread }: ReadingConnection, connect: (options: ConnectionOptions) => TLSSocket): TLSSocket {
  sharedContext ??= createSecureContext();
  const server = `${host}:${port}`;
  const session = sessions.get(server);
  // tls.connect takes `onread` as net.connect does (Node's documentation); @types/node leaves it out.
  const options: ConnectionOptions & { onread: OnReadOpts } = {
    host,
    port,
    onread,
    secureContext: sharedContext,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(session ? { session } : {}),
  };
  return connect(options).on('session', (ticket: Buffer) => keepSession(server, ticket));
}

/** Connects where the request says, for the service's own stores (outside the network guard). */
export const directConnect: ReadingConnect = (connection) =>
  connection.tls ? tlsConnection(connection, tlsConnect) : netConnect({ host: connection.host, port: connection.port, onread: connection.onread });

/** Connects through the network guard ({@link guardedConnect}), for the URLs jobs name. */
export function guardedReadingConnect(policy: NetworkPolicy): ReadingConnect {
  return (connection) =>
    connection.tls
      ? tlsConnection(connection, (options) => guardedTlsConnect(options, policy))
      : guardedConnect({ host: connection.host, port: connection.port, onread: connection.onread }, policy);
}

/**
 * The GET of `url` with `headers`: its path and query as the URL escaped them, and the user and
 * password it may carry sent as Basic credentials, as Node's client sends them.
 */
export function getOfUrl(url: URL, headers: Readonly<Record<string, string>>, signal?: AbortSignal): PooledGetRequest {
  const credentials: Record<string, string> = {};
  if (url.username || url.password) credentials.authorization = basicAuthorization(decodeURIComponent(url.username), decodeURIComponent(url.password));
  return { origin: url, path: `${url.pathname}${url.search}`, headers: { ...credentials, ...headers }, ...(signal ? { signal } : {}) };
}

/** The most bytes of a head taken: past it the answer is not one. */
const maxHeadBytes = 64 * 1024;
/** A chunk that is not full is passed on after this long without a byte, so a slow source still flows. */
const partialChunkMs = 100;

/** An answer whose head has been read, its body a stream of {@link takeChunk}'s chunks. */
export class PooledAnswer extends Readable implements ResponseHead {
  public readonly httpVersion: string;
  public readonly statusCode: number;
  public readonly statusMessage: string;
  public readonly headers: IncomingHttpHeaders;
  #failure: Error | undefined;

  /**
   * @param closeConnection ends the connection while the body is still read from it (once the body
   * has ended, the connection may carry another GET, and is not this answer's to close)
   */
  public constructor(
    head: ResponseHead,
    private readonly closeConnection: () => void,
    private readonly resumeReading: () => void,
  ) {
    // One chunk waits for the reader at most; the socket's own buffer holds what comes meanwhile.
    // Four chunks held 14 MiB more at the peak of a 1 GiB upload over TLS (four parts in flight).
    super({ highWaterMark: reusedChunkBytes });
    this.httpVersion = head.httpVersion;
    this.statusCode = head.statusCode;
    this.statusMessage = head.statusMessage;
    this.headers = head.headers;
  }

  /**
   * Fails the body: at once when it is being read, else at its first read. An 'error' emitted
   * before its reader listens (the answer failed in the read that brought its head) would end the
   * process.
   */
  public fail(error: Error): void {
    if (this.readableFlowing !== null || this.listenerCount('readable') > 0 || this.listenerCount('error') > 0) {
      this.destroy(error);
    } else {
      this.#failure = error;
      this.closeConnection();
    }
  }

  public override _read(): void {
    if (this.#failure) this.destroy(this.#failure);
    else this.resumeReading();
  }

  public override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeConnection();
    callback(error);
  }
}

function connectionError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), { code: 'ECONNRESET' });
}

/** A kept connection that the server had closed, found so before any byte of the answer: the GET goes again on a new one. */
class ClosedWhileKept extends Error {}

/** The request's text: one GET, the connection kept for the next (HTTP/1.1's default). */
function requestText({ origin, path, headers }: PooledGetRequest): string {
  // A signer's headers name the host too: it is sent once, as the origin's.
  const others = Object.entries(headers).filter(([name]) => !/^(host|connection)$/i.test(name));
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${origin.host}`, ...others.map(([name, value]) => `${name}: ${value}`)];
  const broken = lines.find((line) => /[\0\r\n]/.test(line));
  if (broken !== undefined) throw new TypeError(`a request line or header holds a control character: '${broken.slice(0, 60)}'`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends a GET and answers once its head has been read, its body a stream of chunks that each
 * socket read filled in place: no buffer per read, as Node's HTTP client makes, and chunks given
 * back ({@link ../streams/reused-chunks.ts}) are read into again. A whole chunk is passed on when
 * full, a part of one when the body ends or the source pauses. Chunked bodies are decoded where
 * they lie.
 *
 * A connection whose answer was read to its end is kept ({@link keepIdle}) for the next GET to the
 * same server through the same `connect` (its network policy): the parts of a file are read one
 * after another on a few connections instead of a new one each, with its handshake and its slow
 * start. A kept connection found closed before any byte of its answer carries the GET again on a
 * new one (a GET may be sent twice).
 *
 * A connection that fails or closes before the head fails the promise; one that closes before the
 * body's end fails the stream (code ECONNRESET, as Node's client does), so a short body is never
 * taken for the file. The signal ends either.
 */
export async function pooledGet(request: PooledGetRequest, connect: ReadingConnect): Promise<PooledAnswer> {
  const text = requestText(request);
  request.signal?.throwIfAborted();
  const server = `${request.origin.protocol}//${request.origin.host}`;
  const kept = takeIdle(connect, server);
  if (kept) {
    try {
      return await exchange(request, text, connect, server, kept);
    } catch (error) {
      if (!(error instanceof ClosedWhileKept)) throw error;
    }
    // An abort while the kept connection failed would find no listener on the next one.
    request.signal?.throwIfAborted();
  }
  return exchange(request, text, connect, server, undefined);
}

/** One GET on `kept`, or on a new connection when none is given. */
function exchange(request: PooledGetRequest, text: string, connect: ReadingConnect, server: string, kept: ReadingSocket | undefined): Promise<PooledAnswer> {
  const { origin, signal } = request;
  return new Promise<PooledAnswer>((resolve, reject) => {
    let chunk = takeChunk();
    /** Bytes of `chunk` read and not passed on: the head's, then the body's (decoded). */
    let filled = 0;
    /** Bytes the connection has brought for this GET. */
    let received = 0;
    let answer: PooledAnswer | undefined;
    let framing: BodyFraming | undefined;
    let chunked: ChunkedBody | undefined;
    /** Body bytes still to come, for a body of known length. */
    let left = 0;
    /** The server sent more than the answer: the connection cannot carry another. */
    let surplus = false;
    /** The body has ended, or the GET has failed: nothing more is taken. */
    let complete = false;
    /** The connection is this GET's: it has not been kept for another or closed. */
    let owned = true;
    let paused = false;
    let partialTimer: NodeJS.Timeout | undefined;

    /** Lets the connection go: kept for the next GET when `keep`, else closed. */
    const release = (keep: boolean): void => {
      if (!owned) return;
      owned = false;
      clearTimeout(partialTimer);
      signal?.removeEventListener('abort', abort);
      if (keep && answer) {
        socket.off('error', onError).off('close', onClose);
        keepIdle(connect, server, reading, serverKeepAliveMs(answer.headers['keep-alive']?.toString()));
      } else {
        // Its listeners stay: an error the closing socket still reports finds them, with nothing left to fail.
        socket.destroy();
      }
    };

    const fail = (error: Error): void => {
      // Once: a reset connection's 'close' after its 'error' must not end a body read until the close.
      if (complete) return;
      complete = true;
      if (answer) answer.fail(error);
      else reject(error);
      release(false);
    };

    const passOn = (bytes: Buffer): void => {
      if (answer && !answer.push(bytes)) paused = true;
    };

    /** Passes on what the chunk holds, a view of it: the chunk is left to the garbage collector. */
    const passPartial = (): void => {
      if (filled === 0) return;
      passOn(chunk.subarray(0, filled));
      chunk = takeChunk();
      filled = 0;
    };

    /** Ends the body; answers whether the connection reads on (kept for another GET). */
    const finish = (): boolean => {
      complete = true;
      if (filled === chunk.length) passOn(chunk);
      else if (filled > 0) passOn(chunk.subarray(0, filled));
      else releaseChunk(chunk);
      answer?.push(null);
      const keep = !surplus && framing?.kind !== 'close' && answer !== undefined && connectionPersists(answer);
      release(keep);
      return keep;
    };

    /** Reads the head once it is all in `chunk`, leaving the body's first bytes at its start. */
    const readHead = (searchFrom: number): boolean => {
      const end = chunk.subarray(0, filled).indexOf('\r\n\r\n', searchFrom, 'latin1');
      if (end === -1) {
        if (filled > maxHeadBytes) throw new MalformedResponseError(`no end of the answer's head in its first ${maxHeadBytes} bytes`);
        return false;
      }
      const head = parseResponseHead(chunk.toString('latin1', 0, end));
      chunk.copyWithin(0, end + 4, filled);
      filled -= end + 4;
      // An interim answer (100 Continue, 103 Early Hints) comes before the answer itself.
      if (head.statusCode < 200) return readHead(0);
      framing = bodyFraming(head);
      if (framing.kind === 'chunked') chunked = new ChunkedBody();
      if (framing.kind === 'length') left = framing.length;
      answer = new PooledAnswer(
        head,
        () => release(false),
        () => {
          if (!paused || !owned) return;
          paused = false;
          socket.resume();
        },
      );
      resolve(answer);
      return true;
    };

    /** Takes the `read` bytes that have landed at the end of `chunk`'s filled bytes; answers whether to read on. */
    const take = (read: number): boolean => {
      let bodyStart = filled;
      filled += read;
      if (!answer) {
        if (!readHead(Math.max(0, bodyStart - 3))) return true;
        bodyStart = 0;
      }
      if (chunked) {
        filled = chunked.decode(chunk, bodyStart, filled);
        complete = chunked.done;
        surplus = chunked.bytesPastEnd > 0;
      } else if (framing?.kind === 'length') {
        const arrived = Math.min(left, filled - bodyStart);
        surplus = filled - bodyStart > left;
        left -= arrived;
        filled = bodyStart + arrived;
        complete = left === 0;
      }
      if (complete) return finish();
      if (filled === chunk.length) {
        passOn(chunk);
        chunk = takeChunk();
        filled = 0;
      } else if (filled > 0) {
        partialTimer ??= setTimeout(passPartial, partialChunkMs);
        partialTimer.refresh();
      }
      return !paused;
    };

    const target: ReadTarget = {
      buffer: () => chunk.subarray(filled),
      callback: (read, landed) => {
        if (complete) return false;
        received += read;
        // A read lands where the buffer function last pointed: when the chunk has been passed on since
        // (a paused source's partial chunk), its bytes move to the end of the chunk being filled.
        if (landed.buffer !== chunk.buffer || landed.byteOffset !== chunk.byteOffset + filled) chunk.set(landed.subarray(0, read), filled);
        try {
          return take(read);
        } catch (error) {
          fail(error as Error);
          return false;
        }
      },
    };
    const abort = (): void => fail(signal?.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError'));
    /** A kept connection that ends before any byte of its answer had been closed by the server while it waited. */
    const closedWhileKept = (cause?: Error): boolean => {
      if (!kept || received > 0 || complete) return false;
      complete = true;
      release(false);
      reject(new ClosedWhileKept('the kept connection was closed', cause === undefined ? {} : { cause }));
      return true;
    };
    const onError = (error: Error): void => {
      if (closedWhileKept(error)) return;
      fail(answer ? connectionError(`the connection failed during the answer's body: ${error.message}`, error) : error);
    };
    const onClose = (): void => {
      if (complete || closedWhileKept()) return;
      if (answer && framing?.kind === 'close') finish();
      else fail(connectionError(answer ? "the connection closed before the answer's body ended" : 'the connection closed before an answer'));
    };

    const port = Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80);
    const host = origin.hostname.replace(/^\[|\]$/g, '');
    const reading = kept ?? new ReadingSocket((onread) => connect({ host, port, tls: origin.protocol === 'https:', onread }));
    reading.target = target;
    if (kept) reading.socket.write(text);
    else reading.socket.once(origin.protocol === 'https:' ? 'secureConnect' : 'connect', () => reading.socket.write(text));
    const socket = reading.socket;
    socket.on('error', onError).on('close', onClose);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
