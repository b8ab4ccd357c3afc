import { Dropbox } from 'dropbox';
import { Readable } from 'node:stream';
import type { OutboundNetwork } from '../../../shared/destination/index.ts';
import { dropboxHosts, type DropboxEndpoints } from './endpoints.ts';

/** The `fetch` every Dropbox call goes through (injected by tests that alter answers). */
export type Fetch = typeof globalThis.fetch;

/**
 * A `fetch` for the SDK and our own calls: Dropbox's hosts mapped to `endpoints` (the real ones
 * unless the operator moved them), every connection through the function's guarded dispatcher.
 * A URL on any other host is refused: the SDK has no reason to go anywhere else.
 */
export function dropboxFetch(endpoints: DropboxEndpoints, network: OutboundNetwork, fetch: Fetch = globalThis.fetch): Fetch {
  const bases = [
    [dropboxHosts.api, endpoints.api],
    [dropboxHosts.content, endpoints.content],
  ] as const;
  return (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const mapped = bases.find(([host]) => url.startsWith(`${host}/`));
    if (!mapped) return Promise.reject(new Error(`refusing a Dropbox call to ${new URL(url).origin}`));
    return fetch(`${mapped[1]}${url.slice(mapped[0].length)}`, { ...init, dispatcher: network.dispatcher } as RequestInit);
  };
}

/** The SDK for one access token (cheap to make: one per delivery). */
export function dropboxClient(accessToken: string, fetch: Fetch): Dropbox {
  return new Dropbox({ accessToken, fetch });
}

const bodySliceBytes = 1024 * 1024;

function* slices(bytes: Uint8Array, signal: AbortSignal): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += bodySliceBytes) {
    signal.throwIfAborted();
    yield bytes.subarray(offset, offset + bodySliceBytes);
  }
}

/**
 * A chunk as the SDK sends it: a stream of 1 MiB slices with its length declared. Given a buffer,
 * fetch copies it whole, and an aborted fetch still sends all of it (measured: the server received
 * the whole body after the abort), so a chunk the attempt gave up on could land after the next
 * attempt has moved on. Sliced, the chunk is sent from the part's own buffer, a retry slices it
 * again, and an abort stops it within a slice (and what the socket already held): the request
 * then arrives short, and Dropbox keeps none of it.
 */
export function chunkBody(bytes: Uint8Array, signal: AbortSignal): { readonly contents: Readable; readonly extraHeaders: Record<string, string> } {
  return { contents: Readable.from(slices(bytes, signal), { objectMode: false }), extraHeaders: { 'Content-Length': String(bytes.length) } };
}
