import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { batchedWrites } from '../streams/batched-writes.ts';

/** The agents a request connects through: the guarded ones of the function's network. */
export interface HttpAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

/** The `Authorization` value of HTTP Basic authentication (RFC 7617). */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One request: what `fetch` takes, for the bodies the service sends. */
export interface OutgoingRequest {
  /** @default GET */
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** A stream is sent as it comes (chunked unless a Content-Length header says its size). */
  readonly body?: string | Uint8Array | Readable;
  readonly signal?: AbortSignal;
}

/**
 * Sends one request through `agents` and resolves with the response as Node gives it: its body a
 * stream not yet read. Redirects are not followed; the caller decides about each.
 *
 * @example
 * const response = await sendRequest('https://renders.example.com/a.mp4', { signal }, network.agents);
 * response.pipe(destination);
 */
export function sendRequest(url: string | URL, init: OutgoingRequest, agents: HttpAgents): Promise<IncomingMessage> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise<IncomingMessage>((resolve, reject) => {
    const { body } = init;
    // A body known whole is sent with its length (servers may refuse chunked uploads).
    const length = body === undefined || body instanceof Readable ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const request = (secure ? httpsRequest : httpRequest)(target, {
      method: init.method ?? 'GET',
      headers: { ...length, ...init.headers },
      agent: secure ? agents.https : agents.http,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    request.once('response', resolve);
    request.once('error', reject);
    // A body that fails destroys the request with its error (batchedWrites does), which rejects above.
    if (body instanceof Readable) pipeline(body, batchedWrites(request)).catch(() => undefined);
    else request.end(body);
  });
}

/** Response headers as WHATWG `Headers` (repeated ones joined as the Fetch standard joins them). */
function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const item of [value].flat()) headers.append(name, item);
  }
  return headers;
}

/**
 * {@link sendRequest}, answered as a WHATWG `Response`: for calls to APIs (tokens, metadata,
 * callbacks) whose answers are small and read whole.
 */
export async function fetchThrough(url: string | URL, init: OutgoingRequest, agents: HttpAgents): Promise<Response> {
  const response = await sendRequest(url, init, agents);
  const status = response.statusCode ?? 502;
  const empty = init.method === 'HEAD' || status === 204 || status === 304;
  if (empty) response.resume();
  const body = empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: response.statusMessage ?? '', headers: headersOf(response) });
}

/** The most of a body {@link discardAnswer} reads; past it the answer is cut off, its connection with it. */
const maxDiscardedBytes = 64 * 1024;

/**
 * Reads an answer's body to its end and drops it, so its keep-alive connection is free for the
 * next request when this resolves: cancelling a body not read to its end, even an empty one,
 * closes the connection. A body past 64 KiB is cut off instead; one that fails or is aborted
 * (the request's signal) ends the read, and changes nothing: the answer's status was read.
 */
export async function discardAnswer(response: Response): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > maxDiscardedBytes) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // Cut off or aborted: see above.
  }
}
