/**
 * In the style of the socket errors (`ECONNREFUSED`) that clients pass through untouched, so it
 * reaches the classifier through any of them.
 */
const addressNotAllowedCode = 'EADDRNOTALLOWED';

/**
 * The network guard refused a connection before it was made: `host` is, or resolved to,
 * `address`, which lies where the service must not connect (loopback, private networks, instance
 * metadata…). Retrying cannot change that, so the classifier treats it as permanent. Its `code`
 * is `EADDRNOTALLOWED`; the guarded agents, dispatcher and sockets report it as a connection error.
 *
 * @example
 * ```ts
 * new AddressNotAllowedError('files.example.com', '10.0.0.7', 'in 10.0.0.0/8 (private)').message;
 * // "connection to 'files.example.com' (resolved to 10.0.0.7) refused: in 10.0.0.0/8 (private); the service connects to public addresses only"
 * ```
 */
export class AddressNotAllowedError extends Error {
  public readonly code = addressNotAllowedCode;

  /**
   * @param host - the host the caller asked for, as given to the connection
   * @param address - the address refused: `host` itself when it is a literal or a refused name
   * @param reason - why, from the address policy (`in 127.0.0.0/8 (loopback)`)
   */
  public constructor(
    public readonly host: string,
    public readonly address: string,
    reason: string,
  ) {
    const target = host === address ? `'${host}'` : `'${host}' (resolved to ${address})`;
    super(`connection to ${target} refused: ${reason}; the service connects to public addresses only`);
    this.name = 'AddressNotAllowedError';
  }
}

