import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Faults } from './faults.ts';

/** One request as it reached a fake, and how it was answered, for tests that check what was sent. */
export interface RecordedRequest {
  /** The fake's name for the operation: `'videos.insert'`, `'files/upload'`, … */
  readonly endpoint: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The status answered; `'lost'` when the connection was destroyed instead; undefined while in progress. */
  status?: number | 'lost';
}

/** Thrown by the body readers when a body is longer than the endpoint accepts. */
export class RequestBodyTooLarge extends Error {
  override readonly name = 'RequestBodyTooLarge';
}

/** Thrown by {@link Exchange.uploadBody} when the connection breaks mid-body (a client abort or an armed drop). */
export class ConnectionBroken extends Error {
  override readonly name = 'ConnectionBroken';
}

/**
 * One request and its answer. Every answer goes through here, so an armed "lost answer" fault and a
 * connection that is already gone are handled once for every fake.
 */
export class Exchange {
  readonly url: URL;
  readonly record: RecordedRequest;
  readonly #request: IncomingMessage;
  readonly #response: ServerResponse;
  readonly #faults: Faults;
  // Node detaches the socket from the request in some paths; keep it to be able to break it.
  readonly #socket: Socket;
  #loseAnswer = false;
  #connectionBroken = false;

  constructor(request: IncomingMessage, response: ServerResponse, url: URL, record: RecordedRequest, faults: Faults) {
    this.#request = request;
    this.#response = response;
    this.url = url;
    this.record = record;
    this.#faults = faults;
    this.#socket = request.socket;
  }

  /** Called as the request reaches its handler: a lost-answer fault armed for it is consumed and applies. */
  takeLostAnswerFault(): void {
    this.#loseAnswer = this.#faults.takeLostAnswer(this.endpoint);
  }

  get method(): string {
    return this.record.method;
  }

  get endpoint(): string {
    return this.record.endpoint;
  }

  /** A request header's value (the first one when repeated). */
  header(name: string): string | undefined {
    const value = this.#request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** The request's declared body length, when it has one. */
  get contentLength(): number | undefined {
    const declared = this.header('content-length');
    return declared === undefined ? undefined : Number(declared);
  }

  /**
   * The body as it arrives, for upload bytes. An armed drop fault cuts it: the bytes before the cut
   * are yielded, then {@link ConnectionBroken} is thrown and the connection breaks once the handler
   * is done (see {@link finish}). A body shorter than the armed count is cut at its end, before any
   * answer. A client that breaks the connection itself ends the body the same way.
   */
  async *uploadBody(): AsyncGenerator<Buffer> {
    const dropAfter = this.#faults.takeDrop(this.endpoint);
    let seen = 0;
    try {
      for await (const chunk of this.#request as AsyncIterable<Buffer>) {
        if (dropAfter !== undefined && seen + chunk.length >= dropAfter) {
          if (dropAfter > seen) yield chunk.subarray(0, dropAfter - seen);
          this.#markBroken();
          throw new ConnectionBroken(`dropped after ${dropAfter} bytes`);
        }
        seen += chunk.length;
        yield chunk;
      }
    } catch (error) {
      if (error instanceof ConnectionBroken) throw error;
      this.#markBroken();
      throw new ConnectionBroken('the client broke the connection', { cause: error });
    }
    if (dropAfter !== undefined) {
      this.#markBroken();
      throw new ConnectionBroken(`dropped at the end of a ${seen}-byte body`);
    }
  }

  /** The whole body, refused past `limitBytes`; for small JSON and form bodies, never for upload bytes. */
  async readSmallBody(limitBytes = 1024 * 1024): Promise<Buffer> {
    return collect(this.#request as AsyncIterable<Buffer>, limitBytes);
  }

  /**
   * The body as a form (URL-encoded or multipart), parsed by the platform's `Request.formData`. It
   * holds the body in memory, so it is bounded: callers pass the largest body the endpoint accepts.
   * With `carriesUpload`, the body counts as upload bytes, so an armed drop fault cuts it.
   */
  async readForm(limitBytes: number, options: { readonly carriesUpload?: boolean } = {}): Promise<FormData> {
    const declared = this.contentLength;
    if (declared !== undefined && declared > limitBytes) throw new RequestBodyTooLarge(`body of ${declared} bytes over ${limitBytes}`);
    const contentType = this.header('content-type') ?? 'application/x-www-form-urlencoded';
    const body = await collect(options.carriesUpload ? this.uploadBody() : (this.#request as AsyncIterable<Buffer>), limitBytes);
    return new Response(body, { headers: { 'content-type': contentType } }).formData();
  }

  /** Answers with a JSON body. */
  answerJson(status: number, body: unknown, headers: OutgoingHttpHeaders = {}, contentType = 'application/json'): void {
    this.#answer(status, { 'content-type': contentType, ...headers }, JSON.stringify(body));
  }

  /** Answers with a plain-text body, as some providers do for malformed requests. */
  answerText(status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
    this.#answer(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }, text);
  }

  /** Answers with headers only. */
  answerEmpty(status: number, headers: OutgoingHttpHeaders = {}): void {
    this.#answer(status, { 'content-length': '0', ...headers }, undefined);
  }

  /** Whether the answer was already sent, lost or made impossible by a broken connection. */
  get settled(): boolean {
    return this.record.status !== undefined;
  }

  #answer(status: number, headers: OutgoingHttpHeaders, body: string | undefined): void {
    if (this.settled) return;
    if (this.#loseAnswer || this.#connectionBroken) {
      this.record.status = 'lost';
      this.#breakConnection();
      return;
    }
    this.record.status = status;
    // An answer may come before the body was read (a refusal); discard the rest so the connection stays usable.
    if (!this.#request.complete) this.#request.resume();
    this.#response.writeHead(status, headers);
    this.#response.end(body);
  }

  /**
   * Called once the handler is done. An armed drop only marks the connection broken, so the handler
   * can keep what arrived before the client sees the break and asks where to resume; it breaks here.
   * A handler that answered nothing is a bug in the fake, shown as a 500.
   */
  finish(): void {
    if (this.#connectionBroken) this.#socket.destroy();
    else if (!this.settled) this.answerText(500, `fake: ${this.endpoint} sent no answer`);
  }

  #markBroken(): void {
    this.#connectionBroken = true;
    this.record.status ??= 'lost';
    this.#request.pause();
  }

  #breakConnection(): void {
    this.#markBroken();
    this.#socket.destroy();
  }
}

async function collect(chunks: AsyncIterable<Buffer>, limitBytes: number): Promise<Buffer> {
  const all: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    length += chunk.length;
    if (length > limitBytes) throw new RequestBodyTooLarge(`body over ${limitBytes} bytes`);
    all.push(chunk);
  }
  return Buffer.concat(all);
}
