import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { awsServiceEndpoint } from '../net/aws-endpoints.ts';
import { directConnect, pooledGet } from '../net/pooled-get.ts';
import { escapeUri, queryString, requestToSign, sendSigned } from '../net/sigv4-request.ts';
import { xmlText } from '../net/xml-text.ts';

export interface StagingObjectsSettings {
  readonly region: string;
  /** Another S3 endpoint (the local runtime's), addressed path-style. @default S3's regional endpoint */
  readonly endpoint?: string;
  /** @default the SDK's default chain (in the function bundles, the environment Lambda provides) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** Where a read of a source ends, and the version it must be of (an ETag, sent as `If-Match`). */
export interface ReadBounds {
  /** The first byte not read. */
  readonly end: number;
  readonly version: string | undefined;
}

/** An answer whose head has been read, its body not: Node's response, or one read into reused buffers. */
export interface SourceAnswer extends Readable {
  readonly statusCode?: number | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** Reads objects of the service's own buckets: GetObject, from an offset, up to `bounds.end` of that version. */
export type GetStagingObject = (bucket: string, key: string, offset: number, signal: AbortSignal, bounds?: ReadBounds) => Promise<SourceAnswer>;

/** The headers of a read from `offset` (to `bounds.end`, of its version): none for the whole file. */
export function rangeHeaders(offset: number, bounds: ReadBounds | undefined): Record<string, string> {
  if (bounds === undefined) return offset > 0 ? { range: `bytes=${offset}-` } : {};
  return { range: `bytes=${offset}-${bounds.end - 1}`, ...(bounds.version === undefined ? {} : { 'if-match': bounds.version }) };
}

/** An object of a bucket. */
export interface ObjectAddress {
  readonly bucket: string;
  readonly key: string;
}

/** One S3 request of the service's own: of an object, or of the account (no object). */
export interface StagingRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  readonly object?: ObjectAddress;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/** Tries of a request, as the S3 client made them: S3 asks for another on 500 and 503 (SlowDown). */
const tries = 3;

/**
 * A key as S3 wants it in the path: each segment escaped once, the slashes kept. The path is sent
 * as built, never through URL parsing, which would resolve `..` segments into another key.
 */
function escapedKey(key: string): string {
  return key.split('/').map(escapeUri).join('/');
}

/** The `<Code>` of an S3 error answer (its body is small), or undefined when it has none. */
export async function s3ErrorCode(response: SourceAnswer): Promise<string | undefined> {
  let body = '';
  for await (const chunk of response) {
    if (body.length < 64 * 1024) body += String(chunk);
  }
  return xmlText(body, 'Code')?.slice(0, 100);
}

/**
 * S3 requests of the service's own buckets, each one SigV4-signed request with the SDK's own
 * signer: the few calls the functions make of the staging bucket (a destination function's
 * GetObject; the ingress's HeadObject, GetObject, PutObject, DeleteObject, a presigned PutObject
 * and ListBuckets for the account's canonical ID). The S3 client would bring every S3 operation's
 * schema with it, 100 KiB of each bundle parsed at every cold start. An answer is Node's response,
 * its body not yet read; the caller judges its status. These requests stay outside the network
 * guard, as the service's own clients do.
 */
export class StagingObjects {
  readonly #settings: StagingObjectsSettings;
  readonly #signer: SignatureV4;
  readonly #agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  public constructor(settings: StagingObjectsSettings) {
    this.#settings = settings;
    this.#signer = new SignatureV4({
      service: 's3',
      region: settings.region,
      credentials: settings.credentials ?? defaultProvider(),
      sha256: Sha256,
      // S3 signs the path as sent: escaped once, not twice as other services want it.
      uriEscapePath: false,
    });
  }

  /**
   * GetObject from `offset` (a ranged GET past 0 or with bounds), its body read into reused
   * buffers ({@link pooledGet}): a delivery's source is the most bytes any function reads.
   */
  public readonly get: GetStagingObject = (bucket, key, offset, signal, bounds) => {
    const request: StagingRequest = { method: 'GET', object: { bucket, key }, headers: rangeHeaders(offset, bounds), signal };
    return this.#withTries(request, async () => {
      const { base, path, headers } = await this.#signed(request);
      return pooledGet({ origin: base, path, headers, signal }, directConnect);
    });
  };

  /**
   * Sends the request, and again (at most three tries, with a short backoff) when S3 answers 500 or
   * 503 or the connection fails before an answer, as the S3 client did; the last outcome is the
   * caller's to judge. Every request here may be repeated: none appends.
   */
  public send(request: StagingRequest): Promise<IncomingMessage> {
    return this.#withTries(request, async () => {
      const { base, path, headers } = await this.#signed(request);
      const agent = base.protocol === 'https:' ? this.#agents.https : this.#agents.http;
      return sendSigned(base, request.method, path, headers, request.body, agent, request.signal);
    });
  }

  async #withTries<Answer extends SourceAnswer>(request: StagingRequest, sendOnce: () => Promise<Answer>): Promise<Answer> {
    for (let attempt = 1; ; attempt += 1) {
      const last = attempt >= tries || request.signal?.aborted === true;
      try {
        const response = await sendOnce();
        if (last || (response.statusCode !== 500 && response.statusCode !== 503)) return response;
        response.resume();
      } catch (error) {
        if (last) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }

  /**
   * A request that must succeed: its answer (2xx), or undefined when its object is not there (a 404
   * other than NoSuchBucket); any other answer fails with S3's code, once the tries are spent.
   */
  public async request(request: StagingRequest): Promise<IncomingMessage | undefined> {
    const response = await this.send(request);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    let code: string | undefined;
    // A HEAD's answer has no body to read the code from.
    if (request.method === 'HEAD') response.resume();
    else code = await s3ErrorCode(response);
    if (status === 404 && code !== 'NoSuchBucket') return undefined;
    const where = request.object ? `s3://${request.object.bucket}/${request.object.key}` : 's3://';
    throw new Error(`S3 ${request.method} ${where}: ${code ?? 'HTTP'} ${status}`);
  }

  /**
   * A URL that lets its holder PUT one object until it expires, signed by the service. Its
   * `content-type` is left out of the signature (as the SDK's presigner does), so a sender who
   * sets another still lands the file. The payload hash goes in the query spelled as the SDK spells
   * it: the canonical query sorts by name, case included, so the spelling is part of the signature.
   */
  public async presignedPut(object: ObjectAddress, expiresInSeconds: number): Promise<string> {
    const { base, path } = this.#where(object);
    const signed = await this.#signer.presign(requestToSign(base, 'PUT', path, { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }), {
      expiresIn: expiresInSeconds,
    });
    return `${base.protocol}//${base.host}${path}?${queryString(signed.query)}`;
  }

  /** Virtual-hosted on AWS (the stack's bucket names have no dots); path-style on another endpoint. */
  #where(object: ObjectAddress | undefined): { base: URL; path: string } {
    const { endpoint, region } = this.#settings;
    if (endpoint !== undefined) {
      const base = new URL(endpoint);
      const prefix = base.pathname.replace(/\/$/, '');
      return { base, path: object === undefined ? `${prefix}/` : `${prefix}/${object.bucket}/${escapedKey(object.key)}` };
    }
    const regional = new URL(awsServiceEndpoint('s3', region));
    if (object === undefined) return { base: regional, path: '/' };
    return { base: new URL(`https://${object.bucket}.${regional.host}`), path: `/${escapedKey(object.key)}` };
  }

  /** Where the request goes (its path with the query, as signed) and its signed headers. */
  async #signed({ method, object, query = {}, headers = {}, body }: StagingRequest): Promise<{ base: URL; path: string; headers: Record<string, string> }> {
    const { base, path } = this.#where(object);
    const signed = await this.#signer.sign(requestToSign(base, method, path, headers, body, query));
    const search = queryString(query);
    return { base, path: search ? `${path}?${search}` : path, headers: signed.headers };
  }
}
