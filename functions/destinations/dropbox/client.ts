import { Readable } from 'node:stream';
import type { OutgoingRequest } from '../../../shared/destination/index.ts';
import type { DropboxEndpoints } from './endpoints.ts';

/**
 * The `fetch` every Dropbox call goes through: the function network's, whose every connection is
 * guarded (tests that alter answers wrap it).
 */
export type Fetch = (url: string, init: OutgoingRequest) => Promise<Response>;

/** A failed Dropbox answer: its status, headers and body (the JSON Dropbox sent, else its text). */
export class DropboxApiError extends Error {
  override readonly name = 'DropboxApiError';

  constructor(
    readonly route: string,
    readonly status: number,
    readonly headers: Headers,
    readonly body: unknown,
  ) {
    super(`Dropbox ${route} answered ${status}`);
  }
}

/** `FileMetadata` as the calls used here answer it (the fields this destination reads). */
export interface FileMetadata {
  readonly '.tag'?: string;
  readonly name: string;
  readonly id: string;
  readonly path_lower?: string;
  readonly path_display?: string;
  readonly rev: string;
  readonly size: number;
  readonly content_hash?: string;
}

/**
 * `Dropbox-API-Arg` travels in a header, which carries ASCII only: characters past it are escaped
 * inside the JSON strings (`\uXXXX`), as Dropbox documents.
 */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const bodySliceBytes = 1024 * 1024;

function* slices(bytes: Uint8Array, signal: AbortSignal): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += bodySliceBytes) {
    signal.throwIfAborted();
    yield bytes.subarray(offset, offset + bodySliceBytes);
  }
}

/**
 * The calls of Dropbox's API v2 this destination makes, for one access token: RPC calls with a
 * JSON body on the API host, uploads with their argument in `Dropbox-API-Arg` on the content
 * host. (Dropbox's SDK would add 64 KB of every route's definition to the function, which this
 * handful of calls does not need.)
 *
 * An upload's bytes go as a stream of 1 MiB slices with their length declared. Given a buffer,
 * fetch copies it whole, and an aborted fetch still sends all of it (measured: the server received
 * the whole body after the abort), so a chunk an attempt gave up on could land after the next
 * attempt moved on. Sliced, a chunk is sent from the part's own buffer, a retry slices it again,
 * and an abort stops it within a slice (and what the socket already held): the request arrives
 * short, and Dropbox keeps none of it.
 */
export class DropboxApi {
  constructor(
    private readonly accessToken: string,
    private readonly endpoints: DropboxEndpoints,
    private readonly fetch: Fetch,
  ) {}

  /** An RPC call (`files/get_metadata`, …): its JSON answer. */
  rpc<Result>(route: string, args: unknown, signal: AbortSignal): Promise<Result> {
    return this.#call<Result>(route, `${this.endpoints.api}/2/${route}`, { 'content-type': 'application/json' }, JSON.stringify(args), signal);
  }

  /** An upload call (`files/upload`, `files/upload_session/append_v2`, …) with `bytes` as its body. */
  upload<Result>(route: string, args: unknown, bytes: Uint8Array, signal: AbortSignal): Promise<Result> {
    const headers = { 'content-type': 'application/octet-stream', 'dropbox-api-arg': headerSafeJson(args), 'content-length': String(bytes.length) };
    return this.#call<Result>(route, `${this.endpoints.content}/2/${route}`, headers, Readable.from(slices(bytes, signal), { objectMode: false }), signal);
  }

  async #call<Result>(route: string, url: string, headers: Record<string, string>, body: string | Readable, signal: AbortSignal): Promise<Result> {
    const response = await this.fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.accessToken}`, ...headers },
      body,
      signal,
    });
    const text = await response.text();
    let answer: unknown = text;
    try {
      answer = text === '' ? null : JSON.parse(text);
    } catch {
      // Dropbox answers malformed requests in plain text: kept as the text.
    }
    if (!response.ok) throw new DropboxApiError(route, response.status, response.headers, answer);
    return answer as Result;
  }
}
