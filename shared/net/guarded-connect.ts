import { connect as netConnect, isIP, Socket, type LookupFunction, type TcpNetConnectOpts } from 'node:net';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { addressRefusal } from './address-policy.ts';
import { AddressNotAllowedError } from './address-not-allowed-error.ts';
import { createGuardedLookup } from './guarded-lookup.ts';

/** Where outbound connections may go. The deployed stack guards; the local runtime does not. */
export interface NetworkPolicy {
  /**
   * Connect anywhere, loopback and private networks included: the local runtime and tests, whose
   * servers listen on 127.0.0.1. False in the deployed stack.
   */
  readonly allowPrivateNetworks: boolean;
  /**
   * Resolves host names; the guard checks its answers.
   * @default dns.lookup, the system resolver
   */
  readonly resolve?: LookupFunction;
}

/** Where a connection is about to go, as `net.connect` reads its options. */
export interface ConnectTarget {
  readonly host?: string | null;
  /** A Unix socket path: when set, `net.connect` ignores `host`. */
  readonly path?: string | null;
}

/*
 * How a connection is guarded, and why nothing gets past it. `net.connect` (which `tls.connect`,
 * the http(s) agents and undici all end in) picks the address it connects to in exactly one of
 * three ways (lib/net.js, lookupAndConnect):
 *   1. `path` set: a Unix socket. Refused here.
 *   2. `host` an IP literal (`net.isIP(host) !== 0`): connected to as is, WITHOUT calling any
 *      lookup. A lookup-only guard would let `http://127.0.0.1/` through, so the literal is checked
 *      here, with the same `isIP` net uses to decide, before the socket exists.
 *   3. anything else (`example.com`, `127.1`, `2130706433`, `localhost`): handed to `lookup`, and
 *      the socket connects only to the addresses the lookup returns. The guarded lookup is forced
 *      over whatever lookup the caller passed, and refuses if any answer is refused; the address
 *      checked is the address connected to, so DNS rebinding has no window.
 * A check of `socket.remoteAddress` on 'connect' would come too late: the TCP handshake has
 * reached the private host by then, and `tls.connect` sends its ClientHello from a 'connect'
 * listener registered before any of ours.
 */

/**
 * Why a connection to `target` must not be made, decided before any packet leaves: a Unix socket
 * or a refused IP literal. Names are left to the lookup from {@link lookupFor}, which the
 * connection must use. Undefined when the policy allows private networks.
 *
 * @example
 * ```ts
 * refusalBeforeConnect({ host: '169.254.169.254' }, { allowPrivateNetworks: false }); // an AddressNotAllowedError
 * refusalBeforeConnect({ host: 'example.com' }, { allowPrivateNetworks: false }); // undefined: the lookup decides
 * ```
 */
export function refusalBeforeConnect(target: ConnectTarget, policy: NetworkPolicy): AddressNotAllowedError | undefined {
  if (policy.allowPrivateNetworks) return undefined;
  if (target.path) return new AddressNotAllowedError(target.path, target.path, 'a local (Unix) socket');
  // net.connect's own default host.
  const host = target.host || 'localhost';
  if (isIP(host) === 0) return undefined;
  const refusal = addressRefusal(host);
  return refusal === undefined ? undefined : new AddressNotAllowedError(host, host, refusal);
}

/**
 * The `lookup` a connection under `policy` must use: the guarded one, or (private networks
 * allowed) the policy's resolver as it is (undefined: the system's).
 *
 * @example
 * ```ts
 * net.connect({ host: 'example.com', port: 80, lookup: lookupFor({ allowPrivateNetworks: false }) });
 * ```
 */
export function lookupFor(policy: NetworkPolicy): LookupFunction | undefined {
  return policy.allowPrivateNetworks ? policy.resolve : createGuardedLookup(policy.resolve);
}

/**
 * `net.connect` under the guard, for socket-level clients (SFTP's `sock`, FTP control
 * connections). A refused connection is never attempted: the socket returned emits the
 * {@link AddressNotAllowedError} as its 'error', as a refused connection would.
 *
 * Its sockets send at once (`TCP_NODELAY`), as Node's HTTP client does: these protocols are
 * exchanges of requests and answers, and with Nagle's algorithm a request written in two pieces
 * (ssh2 writes an SSH packet so) waits for the peer's delayed ACK of the first, 40 ms on Linux,
 * at every exchange: an SFTP login took 210 ms on loopback with it, 41 without.
 *
 * @example
 * ```ts
 * const sock = guardedConnect({ host: destination.host, port: 22 }, policy);
 * sftp.connect({ sock, username, password });
 * ```
 */
export function guardedConnect(options: TcpNetConnectOpts, policy: NetworkPolicy): Socket {
  const refused = refusalBeforeConnect(options, policy);
  if (refused) return new Socket().destroy(refused);
  return netConnect({ ...options, lookup: lookupFor(policy) }).setNoDelay(true);
}

/**
 * `tls.connect` under the guard (FTPS, or TLS over a host and port). Like {@link guardedConnect},
 * a refused connection is never attempted and the socket emits the error. It takes no `socket`
 * option: a socket connected elsewhere has chosen its address without the guard.
 *
 * @example
 * ```ts
 * const socket = guardedTlsConnect({ host: 'ftp.example.com', port: 990, servername: 'ftp.example.com' }, policy);
 * ```
 */
export function guardedTlsConnect(options: Omit<ConnectionOptions, 'socket'>, policy: NetworkPolicy): TLSSocket {
  const refused = refusalBeforeConnect(options, policy);
  if (refused) return new TLSSocket(new Socket()).destroy(refused);
  return tlsConnect({ ...options, lookup: lookupFor(policy) }).setNoDelay(true);
}
