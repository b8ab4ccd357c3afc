import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createHash } from 'node:crypto';
import { STATUS_CODES, request as httpRequest, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { awsServiceEndpoint, classifyNetworkFailure, escapeUri, guardedHttpAgent, guardedHttpsAgent, isRetryableAwsRefusal, type NetworkPolicy, queryString, requestToSign, withAwsRetries, xmlText } from '../../../shared/destination/index.ts';
import type { S3Addressing } from './endpoint.ts';

/** A body sent as it is read, never held: its length on the wire and the payload its signature names. */
export interface StreamedBody {
  readonly stream: Readable;
  readonly length: number;
  /** `x-amz-content-sha256`: `STREAMING-UNSIGNED-PAYLOAD-TRAILER` for an aws-chunked body with a checksum trailer. */
  readonly contentSha256: string;
  /** Told of each chunk once the socket has taken it, so its memory may carry a later one. */
  readonly written?: (chunk: Buffer) => void;
}

/** One request of a bucket, or of an object in it. */
export interface S3Request {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  readonly bucket: string;
  /** The object's key; none for a request of the bucket itself. */
  readonly key?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes in hand may be sent again; a streamed body is sent once. */
  readonly body?: string | Uint8Array | StreamedBody;
  readonly signal?: AbortSignal;
}

/** Whether a request that failed so may succeed if sent again: past S3's refusals, only a failed or silent connection, unless the caller gave up. */
export function worthAnotherTry(error: unknown, signal: AbortSignal | undefined): boolean {
  return error instanceof S3Error ? error.retryable : !(signal?.aborted ?? false) && classifyNetworkFailure(error)?.retryable === true;
}

/** A successful answer, its (small) body read. */
export interface S3Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A store's refusal: `code` is S3's (`NoSuchUpload`, `AccessDenied`, `SlowDown`; `NotFound` for a HEAD's 404). */
export class S3Error extends Error {
  public constructor(
    public readonly code: string,
    /** 500 for an error S3 sent in a 200 answer (CompleteMultipartUpload's), whose outcome is not known. */
    public readonly statusCode: number,
    message: string,
    public readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = code;
  }

  /** Whether another try may not meet it: throttling, a timeout on S3's side, S3's own trouble. */
  public get retryable(): boolean {
    return isRetryableAwsRefusal(this.code, this.statusCode) || this.code === 'RequestTimeout';
  }
}

export interface S3ApiSettings {
  readonly addressing: S3Addressing;
  /** The destination's keys, an assumed role's, or the service's own (bucket-policy mode). */
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Where connections may go: the endpoint is the caller's choice. */
  readonly network: NetworkPolicy;
  /**
   * Whether a request failing in a way another try may not meet is sent again (three tries in all,
   * with the SDK's backoff). Not for the requests that make the object: sent again blindly after a
   * lost answer, they write it twice; their callers look first.
   */
  readonly retries: boolean;
}

/** Sockets per store: enough for every part in flight. */
const maxSockets = 16;
const tries = 3;
const connectTimeoutMs = 10_000;
/** A request whose socket is silent this long (no answer, no progress) is given up. */
const idleTimeoutMs = 120_000;
/** S3's answers here are small (a page of 1,000 parts is 200 KiB); the endpoint may be anyone's. */
const maxAnswerBytes = 4 * 1024 * 1024;
/** How long a streamed body waits for `100 Continue` before it goes anyway, as curl does. */
const continueWaitMs = 1000;
const sliceBytes = 1024 * 1024;
const emptySha256 = createHash('sha256').digest('hex');

/** A key as S3 wants it in the path: each segment escaped once, the slashes kept. */
function escapedKey(key: string): string {
  return key.split('/').map(escapeUri).join('/');
}

function* slices(body: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < body.length; offset += sliceBytes) yield body.subarray(offset, offset + sliceBytes);
}

function isStreamed(body: S3Request['body']): body is StreamedBody {
  return typeof body === 'object' && !(body instanceof Uint8Array);
}

/**
 * The requests of one S3 store, each SigV4-signed with the SDK's own signer and sent over agents
 * that connect only where the network policy allows. The S3 client brought every S3 operation's
 * schema and a middleware stack with it, 260 KiB of the S3 function's bundle parsed at every cold
 * start, for the eleven requests a delivery may make. The requests' answers are read here; what they
 * mean is the caller's ({@link ./s3-operations.ts}).
 */
export class S3Api {
  readonly #base: URL;
  readonly #pathStyle: boolean;
  readonly #signer: SignatureV4;
  readonly #agent: Agent;
  readonly #retries: boolean;

  public constructor(settings: S3ApiSettings) {
    const { endpoint, region, forcePathStyle } = settings.addressing;
    this.#base = new URL(endpoint ?? awsServiceEndpoint('s3', region));
    // An address has no subdomains to put the bucket in (the SDK, too, addresses it path-style).
    this.#pathStyle = forcePathStyle || isIP(this.#base.hostname.replace(/^\[|\]$/g, '')) !== 0;
    // S3 signs the path as sent: escaped once, not twice as other services want it.
    this.#signer = new SignatureV4({ service: 's3', region, credentials: settings.credentials, sha256: Sha256, uriEscapePath: false });
    this.#agent = this.#base.protocol === 'https:' ? guardedHttpsAgent(settings.network, { maxSockets }) : guardedHttpAgent(settings.network, { maxSockets });
    this.#retries = settings.retries;
  }

  /** Sends the request (again, when it may be and another try may succeed); a refusal is an {@link S3Error}. */
  public async send(request: S3Request): Promise<S3Answer> {
    const resendable = this.#retries && !isStreamed(request.body);
    return withAwsRetries(
      resendable ? tries : 1,
      () => this.#sendOnce(request),
      (error) => worthAnotherTry(error, request.signal),
    );
  }

  /** Virtual-hosted (the bucket in the host name) unless path-style is asked for. */
  #where(bucket: string, key: string | undefined): { base: URL; path: string } {
    const prefix = this.#base.pathname.replace(/\/$/, '');
    const objectPath = key === undefined ? '' : `/${escapedKey(key)}`;
    if (this.#pathStyle) return { base: this.#base, path: `${prefix}/${bucket}${objectPath}` };
    return { base: new URL(`${this.#base.protocol}//${bucket}.${this.#base.host}`), path: `${prefix}${objectPath || '/'}` };
  }

  async #sendOnce({ method, bucket, key, query = {}, headers = {}, body, signal }: S3Request): Promise<S3Answer> {
    const { base, path } = this.#where(bucket, key);
    const tls = base.protocol === 'https:';
    const length = body === undefined ? 0 : isStreamed(body) ? body.length : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // Over TLS the payload is not hashed into the signature (as the AWS CLI does): TLS protects it
    // in transit and the CRC-32 every part carries lets the store verify it. Over plain http it is.
    const contentSha256 = isStreamed(body)
      ? body.contentSha256
      : tls
        ? 'UNSIGNED-PAYLOAD'
        : body === undefined
          ? emptySha256
          : createHash('sha256').update(body).digest('hex');
    const toSign = { ...headers, 'x-amz-content-sha256': contentSha256, ...(length > 0 || method === 'PUT' || method === 'POST' ? { 'content-length': String(length) } : {}) };
    const signed = await this.#signer.sign(requestToSign(base, method, path, toSign, undefined, { ...query }));
    const search = queryString(query);
    const outgoing = (tls ? httpsRequest : httpRequest)({
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      path: search ? `${path}?${search}` : path,
      method,
      // A streamed body waits for the store's go-ahead: a refusal (a signature, a store that does
      // not speak aws-chunked) then costs no read of the file.
      headers: isStreamed(body) ? { ...signed.headers, expect: '100-continue' } : signed.headers,
      agent: this.#agent,
      ...(signal ? { signal } : {}),
    });
    const answer = answerOf(outgoing, `S3 ${method} ${bucket}${key === undefined ? '' : `/${key}`}`);
    sendBody(outgoing, body, tls);
    return answer;
  }
}

/** Writes the body: a streamed one after `100 Continue`; a large one over TLS in slices. */
function sendBody(outgoing: ClientRequest, body: S3Request['body'], tls: boolean): void {
  if (body === undefined || typeof body === 'string') {
    outgoing.end(body);
  } else if (isStreamed(body)) {
    let started = false;
    let stop = (): void => undefined;
    const start = (): void => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      stop = pump(body.stream, outgoing, body.written);
    };
    const timer = setTimeout(start, continueWaitMs);
    outgoing.once('continue', start);
    outgoing.once('response', () => {
      clearTimeout(timer);
      // An answer before the whole body went (a refusal): what is left is not sent.
      stop();
      started = true;
    });
    outgoing.once('close', () => clearTimeout(timer));
  } else if (tls && body.length > sliceBytes) {
    // TLS then encrypts as the socket drains, instead of holding an encrypted copy of every part
    // in flight (measured: peak memory flat with the file's size, and lower).
    Readable.from(slices(body), { objectMode: false }).pipe(outgoing);
  } else {
    outgoing.end(body);
  }
}

/**
 * Writes a stream into the request as `pipe` does, and tells `written` of each chunk once the
 * socket has taken it, which `pipe` cannot. Returns what stops it.
 */
function pump(stream: Readable, outgoing: ClientRequest, written?: (chunk: Buffer) => void): () => void {
  const write = (chunk: Buffer): void => {
    if (!outgoing.write(chunk, written && ((error) => error ?? written(chunk)))) stream.pause();
  };
  const resume = (): void => {
    stream.resume();
  };
  const end = (): void => {
    outgoing.end();
  };
  stream.on('data', write).once('end', end);
  outgoing.on('drain', resume);
  return () => {
    stream.off('data', write).off('end', end);
    outgoing.off('drain', resume);
    stream.pause();
  };
}

/** The request's answer, read; a refusal as an {@link S3Error}; silence and slow connections as errors. */
function answerOf(outgoing: ClientRequest, what: string): Promise<S3Answer> {
  return new Promise<S3Answer>((resolve, reject) => {
    outgoing.setTimeout(idleTimeoutMs, () => outgoing.destroy(timeoutError(`${what}: no progress in ${idleTimeoutMs / 1000} s`)));
    outgoing.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => outgoing.destroy(timeoutError(`${what}: no connection in ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
    });
    let answered = false;
    // `on`: a body still being piped may fail the request again after its first error.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    outgoing.once('response', (response) => {
      answered = true;
      readAnswer(response, what).then(resolve, reject);
      response.once('end', () => {
        if (answerEndsConnection(outgoing, response.statusCode)) outgoing.destroy();
      });
    });
  });
}

/**
 * Whether a request's connection closes once its answer has been read: when the answer came
 * before the whole body was given to the request (a refusal; the rest would follow on the
 * connection), or it is a failure before the socket reported the last write. A success came after
 * the store had read the body whole, though the socket may not have reported the last write yet
 * (over TLS, the bench's sink answered 24 of 64 parts of a GiB so): its connection carries the next.
 */
export function answerEndsConnection(request: Pick<ClientRequest, 'writableEnded' | 'writableFinished'>, statusCode: number | undefined): boolean {
  if (request.writableFinished) return false;
  return !request.writableEnded || statusCode === undefined || statusCode >= 300;
}

/** A connection given up for silence: transient, as a timed-out connection is. */
export function timeoutError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

async function readAnswer(response: IncomingMessage, what: string): Promise<S3Answer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxAnswerBytes) {
      response.destroy();
      throw new Error(`${what}: an answer of more than ${maxAnswerBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const status = response.statusCode ?? 0;
  const requestId = typeof response.headers['x-amz-request-id'] === 'string' ? response.headers['x-amz-request-id'] : undefined;
  // CompleteMultipartUpload may fail after its 200 went: the error is then the body.
  const failedAfterOk = status === 200 && /^\s*(?:<\?xml[^>]*>\s*)?<Error>/.test(body);
  if (status >= 200 && status < 300 && !failedAfterOk) return { status, headers: response.headers, body };
  // A HEAD's refusal has no body: the status names it (404 NotFound, 403 Forbidden).
  const code = xmlText(body, 'Code') ?? (STATUS_CODES[status] ?? `HTTP${status}`).replace(/\W/g, '');
  const message = xmlText(body, 'Message');
  throw new S3Error(
    code,
    failedAfterOk ? 500 : status,
    `${what}: ${code} (HTTP ${status}${failedAfterOk ? ' with an error' : ''})${message ? `: ${message.slice(0, 300)}` : ''}`,
    requestId,
  );
}
