import { Dropbox } from 'dropbox';
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
