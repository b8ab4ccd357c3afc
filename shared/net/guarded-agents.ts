import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { lookupFor, refusalBeforeConnect, type NetworkPolicy } from './guarded-connect.ts';

type ConnectionCallback = (error: Error | null, stream: Duplex) => void;

/**
 * Every new socket of an agent is made here: a refused literal never reaches `net.connect`, and
 * names are resolved by the guarded lookup, put over any `lookup` the request brought along.
 */
function connectThroughGuard<Options extends ClientRequestArgs>(
  options: Options,
  callback: ConnectionCallback | undefined,
  policy: NetworkPolicy,
  lookup: LookupFunction | undefined,
  connect: (options: Options) => Duplex | null | undefined,
): Duplex | null | undefined {
  const refused = refusalBeforeConnect(options, policy);
  if (!refused) return connect({ ...options, lookup });
  // The agent hands the error to the request, which emits it as it would a refused connection
  // (with an error, no stream is read). Without a callback (a direct call), the error comes as the
  // socket's, on the next tick.
  if (!callback) return new Socket().destroy(refused);
  callback(refused, undefined as never);
  return undefined;
}

class GuardedHttpAgent extends HttpAgent {
  readonly #policy: NetworkPolicy;
  readonly #lookup: LookupFunction | undefined;

  public constructor(policy: NetworkPolicy, options: HttpAgentOptions) {
    super(options);
    this.#policy = policy;
    this.#lookup = lookupFor(policy);
  }

  public override createConnection(options: ClientRequestArgs, callback?: ConnectionCallback): Duplex | null | undefined {
    return connectThroughGuard(options, callback, this.#policy, this.#lookup, (checked) => super.createConnection(checked, callback));
  }
}

class GuardedHttpsAgent extends HttpsAgent {
  readonly #policy: NetworkPolicy;
  readonly #lookup: LookupFunction | undefined;

  public constructor(policy: NetworkPolicy, options: HttpsAgentOptions) {
    super(options);
    this.#policy = policy;
    this.#lookup = lookupFor(policy);
  }

  // https.Agent's own createConnection keeps TLS session reuse; only the options change.
  public override createConnection(options: HttpsRequestOptions, callback?: ConnectionCallback): Duplex | null | undefined {
    return connectThroughGuard(options, callback, this.#policy, this.#lookup, (checked) => super.createConnection(checked, callback));
  }
}

/**
 * A keep-alive `http.Agent` whose connections go only where `policy` allows, for libraries that
 * take agents (the AWS SDK's `NodeHttpHandler`, Azure, Google and Dropbox clients). A refused
 * connection fails the request with an `AddressNotAllowedError` before any packet is sent.
 *
 * @param options - any `http.Agent` option, `maxSockets` among them; `keepAlive` defaults to true
 * @example
 * ```ts
 * new NodeHttpHandler({
 *   httpAgent: guardedHttpAgent(policy, { maxSockets: 16 }),
 *   httpsAgent: guardedHttpsAgent(policy, { maxSockets: 16 }),
 * });
 * ```
 */
export function guardedHttpAgent(policy: NetworkPolicy, options: HttpAgentOptions = {}): HttpAgent {
  return new GuardedHttpAgent(policy, { keepAlive: true, ...options });
}

/**
 * The `https.Agent` counterpart of {@link guardedHttpAgent}; TLS verifies the name asked for,
 * while the address it reaches is the guarded one.
 *
 * @example
 * ```ts
 * https.get('https://example.com/', { agent: guardedHttpsAgent({ allowPrivateNetworks: false }) });
 * ```
 */
export function guardedHttpsAgent(policy: NetworkPolicy, options: HttpsAgentOptions = {}): HttpsAgent {
  return new GuardedHttpsAgent(policy, { keepAlive: true, ...options });
}
