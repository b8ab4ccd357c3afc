import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { batchedWrites } from '../../../shared/destination/index.ts';

/** The agents one upload connects through: guarded, so every hop goes only where the network allows. */
export interface Agents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

/** A request body that is opened only when the server is ready for it, and at most once. */
export interface RequestBody {
  /** Its length when known (sent as Content-Length); otherwise the body is chunked. */
  readonly length: number | undefined;
  open(): Promise<Readable>;
}

export interface OutgoingRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Ask before the body (`Expect: 100-continue`), so a redirect or a refusal costs no read of the source. */
  readonly expectContinue: boolean;
}

/** The server's final answer to one request. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The first bytes of the answer's body (at most {@link ExchangeOptions.headBytes}). */
  readonly head: Buffer;
  /** The body was opened: the source has been read, and cannot be sent again in this attempt. */
  readonly bodyStarted: boolean;
}

export interface ExchangeOptions {
  readonly agents: Agents;
  readonly signal: AbortSignal;
  /** How long to wait for `100 Continue` before sending the body anyway (servers that ignore Expect). */
  readonly continueWaitMs: number;
  /** Silence on the connection after which the request fails as timed out. */
  readonly idleTimeoutMs: number;
  /** Bytes of the answer's body kept; the rest of a success is read and dropped. */
  readonly headBytes: number;
}

/** A header of an answer, the first if it came more than once. */
export function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The first `limit` bytes of an answer; a success is read to its end (the body may still be going out). */
async function readHead(response: IncomingMessage, limit: number, toEnd: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (kept < limit) {
      const part = chunk.subarray(0, limit - kept);
      chunks.push(part);
      kept += part.length;
    } else if (!toEnd) {
      break;
    }
  }
  return Buffer.concat(chunks);
}

/** Any 2xx: what counts as a delivery. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * One HTTP request and its final answer, with the body streamed only once the server wants it:
 * with `expectContinue` the headers go first and the body follows `100 Continue` (or, from a
 * server that ignores Expect, a short silence). A final answer that comes first (a redirect, a
 * refusal) is returned without the source ever being opened. A refusal that comes while the body
 * is going out stops it; a success is returned only once the whole body has been sent.
 */
export function exchange(target: URL, request: OutgoingRequest, options: ExchangeOptions): Promise<Answer> {
  const { body } = request;
  const headers: Record<string, string> = { ...request.headers };
  if (body?.length !== undefined) headers['content-length'] = String(body.length);
  const expecting = body !== undefined && request.expectContinue;
  if (expecting) headers.expect = '100-continue';
  const secure = target.protocol === 'https:';
  const outgoing = (secure ? httpsRequest : httpRequest)(target, {
    method: request.method,
    headers,
    agent: secure ? options.agents.https : options.agents.http,
    signal: options.signal,
  });

  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    let bodyStarted = false;
    let bodySent: Promise<void> = Promise.resolve();
    let bodyUnwanted = false;
    let wait: NodeJS.Timeout | undefined;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(wait);
      outcome();
    };
    const fail = (error: unknown): void =>
      settle(() => {
        outgoing.destroy();
        reject(error);
      });
    // Once the server has answered without wanting the body, the broken pipe of a body it stopped reading is no news.
    const failUnlessUnwanted = (error: unknown): void => {
      if (!bodyUnwanted) fail(error);
    };
    const startBody = (): void => {
      // An answer that came first is final even while its own body is still arriving: the wait
      // for 100 Continue ending meanwhile must not send the file after it.
      if (bodyStarted || bodyUnwanted || settled || body === undefined) return;
      bodyStarted = true;
      clearTimeout(wait);
      bodySent = body.open().then((stream) => pipeline(stream, batchedWrites(outgoing)));
      bodySent.catch(failUnlessUnwanted);
    };

    outgoing.setTimeout(options.idleTimeoutMs, () => {
      const seconds = Math.round(options.idleTimeoutMs / 1000);
      fail(Object.assign(new Error(`nothing went either way on the connection for ${seconds} s`), { code: 'ETIMEDOUT' }));
    });
    outgoing.on('error', failUnlessUnwanted);
    outgoing.on('continue', startBody);
    outgoing.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const answer = (head: Buffer): Answer => ({ status, headers: response.headers, head, bodyStarted });
      if (isSuccess(status) && bodyStarted) {
        // A success counts once the whole body is out.
        Promise.all([readHead(response, options.headBytes, true), bodySent])
          .then(([head]) => settle(() => resolve(answer(head))))
          .catch(fail);
        return;
      }
      // Anything else stops the body where it is; what the server said is kept as far as it came.
      bodyUnwanted = true;
      readHead(response, options.headBytes, false)
        .catch(() => Buffer.alloc(0))
        .then((head) =>
          settle(() => {
            outgoing.destroy();
            resolve(answer(head));
          }),
        );
    });

    if (body === undefined) {
      outgoing.end();
    } else if (expecting) {
      outgoing.flushHeaders();
      wait = setTimeout(startBody, options.continueWaitMs);
    } else {
      startBody();
    }
  });
}
