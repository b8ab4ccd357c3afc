/**
 * The `code` of {@link AddressNotAllowedError}, in the style of the socket errors (`ECONNREFUSED`)
 * that clients pass through, so it survives every client between the guard and the classifier.
 */
export const addressNotAllowedCode = 'EADDRNOTALLOWED';

/**
 * The network guard refused a connection before it was made: `host` is, or resolved to,
 * `address`, which lies where the service must not connect (loopback, private networks, instance
 * metadata…). Retrying cannot change that, so the classifier treats it as permanent.
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

