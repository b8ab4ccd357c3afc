import type { Dispatcher } from 'undici';
import type { NetworkPolicy } from './guarded-connect.ts';
import { guardedDispatcher } from './guarded-dispatcher.ts';

/**
 * The network policy of a function, with the one `fetch` dispatcher its source downloads and
 * callbacks share (so a warm function reuses their connections). Built once at cold start and
 * handed to everything that connects where a caller says: source opener, callback sender,
 * uploaders (which make agents of their own from the same policy).
 */
export interface OutboundNetwork extends NetworkPolicy {
  readonly dispatcher: Dispatcher;
}

/**
 * The function's {@link OutboundNetwork}: the policy, and a guarded dispatcher made from it.
 *
 * @example
 * ```ts
 * const network = outboundNetwork({ allowPrivateNetworks: config.allowPrivateNetworks });
 * await fetch(url, { dispatcher: network.dispatcher });
 * ```
 */
export function outboundNetwork(policy: NetworkPolicy): OutboundNetwork {
  const { allowPrivateNetworks, resolve } = policy;
  return { allowPrivateNetworks, resolve, dispatcher: guardedDispatcher(policy) };
}
