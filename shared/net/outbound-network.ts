import type { NetworkPolicy } from './guarded-connect.ts';
import { guardedHttpAgent, guardedHttpsAgent } from './guarded-agents.ts';
import { fetchThrough, type HttpAgents, type OutgoingRequest } from './http-client.ts';

/**
 * The network policy of a function, with the guarded keep-alive agents its callbacks and API
 * calls share (so a warm function reuses their connections). Built once at cold start and handed
 * to everything that connects where a caller says: source opener (whose reads make sockets of
 * their own under the policy), callback sender, uploaders (which may also make agents or sockets
 * of their own from the same policy).
 */
export interface OutboundNetwork extends NetworkPolicy {
  readonly agents: HttpAgents;
  /** `fetch` through the guarded agents, for API calls: no redirect is followed. */
  fetch(url: string | URL, init?: OutgoingRequest): Promise<Response>;
}

/**
 * The function's {@link OutboundNetwork}: the policy, and guarded agents made from it.
 *
 * @example
 * ```ts
 * const network = outboundNetwork({ allowPrivateNetworks: config.allowPrivateNetworks });
 * const answer = await network.fetch('https://oauth2.googleapis.com/token', { method: 'POST', body });
 * ```
 */
export function outboundNetwork(policy: NetworkPolicy): OutboundNetwork {
  const { allowPrivateNetworks, resolve } = policy;
  const agents = { http: guardedHttpAgent(policy), https: guardedHttpsAgent(policy) };
  return { allowPrivateNetworks, resolve, agents, fetch: (url, init = {}) => fetchThrough(url, init, agents) };
}
