import type { TLSSocket } from 'node:tls';

/** A SHA-256 fingerprint as `AB:CD:…` (32 pairs) or 64 hex digits, in either case. */
export const fingerprintPattern = /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;

/**
 * A fingerprint in the form Node gives `PeerCertificate.fingerprint256`: upper case, colon-separated.
 *
 * @example
 * ```ts
 * normalizeFingerprint('ab12…'); // 'AB:12:…'
 * ```
 */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replaceAll(':', '').toUpperCase();
  return hex.match(/../g)?.join(':') ?? hex;
}

/** The server presented another certificate than the one pinned by `certificate_fingerprint`. */
export class CertificateMismatchError extends Error {
  public constructor(
    public readonly expected: string,
    public readonly presented: string | undefined,
  ) {
    super(`the server presented the certificate ${presented ?? '(none)'}, not the pinned ${expected}`);
    this.name = 'CertificateMismatchError';
  }
}

/**
 * Why the TLS socket must not be used: its certificate is not the pinned one. Undefined when it
 * is. A pinned certificate stands in for the chain check (a self-signed server has no chain).
 */
export function pinnedCertificateMismatch(socket: TLSSocket, fingerprint: string): CertificateMismatchError | undefined {
  const presented = socket.getPeerCertificate()?.fingerprint256;
  return presented === fingerprint ? undefined : new CertificateMismatchError(fingerprint, presented || undefined);
}
