import { Agent, buildConnector } from 'undici';
import { lookupFor, refusalBeforeConnect, type NetworkPolicy } from './guarded-connect.ts';

/**
 * An undici dispatcher whose connections go only where `policy` allows, for
 * `fetch(url, { dispatcher })`. undici's own connector does the TLS and keep-alive work; before it
 * runs, a refused IP literal is turned away (undici hands `net.connect` literals as they are, and
 * `net.connect` asks no lookup for those), and names are resolved by the guarded lookup. A refused
 * connection rejects the fetch with a `TypeError` whose `cause` is the `AddressNotAllowedError`.
 *
 * The package is pinned to the undici that Node 22 bundles for its global `fetch`, so the two
 * agree on the dispatcher interface.
 *
 * @param options - any undici `Agent` option except `connect`, which the guard owns
 * @example
 * ```ts
 * const dispatcher = guardedDispatcher({ allowPrivateNetworks: false });
 * await fetch('https://example.com/file.mp4', { dispatcher });
 * ```
 */
export function guardedDispatcher(policy: NetworkPolicy, options: Omit<Agent.Options, 'connect'> = {}): Agent {
  const connector = buildConnector({ lookup: lookupFor(policy) });
  return new Agent({
    ...options,
    connect: (target, callback) => {
      const refused = refusalBeforeConnect({ host: target.hostname }, policy);
      if (refused) return callback(refused, null);
      return connector(target, callback);
    },
  });
}
