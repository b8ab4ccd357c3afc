import { DeliveryError, PermanentError, TransientError, describeError } from '../errors.ts';
import { AddressNotAllowedError } from '../net/address-not-allowed-error.ts';

/** Socket-level failures that another attempt may well get past. */
const transientNetworkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** TLS certificate failures: the server is not who it should be, or is misconfigured. Retrying changes nothing. */
const certificateCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What OpenSSL says when a TLS client meets a server that answers in plain text. */
const notTlsCodes = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const notTlsMessage = /wrong version number|packet length too long|http request/i;

/** `error` and the errors it wraps (`fetch` and the SDKs wrap what the socket reported), outermost first. */
function* causeChain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth += 1) {
    yield current as { code?: unknown; message?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/** The socket error code of `error` or of any error in its cause chain. */
export function networkErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    if (typeof link.code === 'string' && transientNetworkCodes.has(link.code)) return link.code;
  }
  return undefined;
}

/**
 * The failures every destination meets below its own protocol, classified once for all of them:
 * a connection the network guard refused (code `EADDRNOTALLOWED`, naming the host and address:
 * the same host gets the same answer next time), a server that does not speak TLS, an untrusted
 * certificate, a host name that does not resolve (permanent, with what to change) and dropped,
 * refused or timed-out connections (transient). Undefined when the failure is not one of these.
 */
export function classifyNetworkFailure(error: unknown): DeliveryError | undefined {
  if (error instanceof DeliveryError) return error;
  for (const link of causeChain(error)) {
    if (link instanceof AddressNotAllowedError) {
      const context = link === error ? '' : `${describeError(error)}: `;
      return new PermanentError(`${context}${link.message}`, { code: link.code, cause: error });
    }
    const code = typeof link.code === 'string' ? link.code : '';
    const message = typeof link.message === 'string' ? link.message : '';
    if (notTlsCodes.has(code) || ((code === 'EPROTO' || code.startsWith('ERR_SSL')) && notTlsMessage.test(message))) {
      return new PermanentError('this endpoint does not speak TLS: give its URL with http:// (and its port)', { code: 'NotTls', cause: error });
    }
    if (certificateCodes.has(code)) {
      return new PermanentError(`the server's TLS certificate is not trusted (${code}): fix the certificate, or give the right host name`, {
        code: 'UntrustedCertificate',
        cause: error,
      });
    }
    if (code === 'ENOTFOUND') {
      return new PermanentError('the host name does not resolve: check it for typos', { code: 'HostNotFound', cause: error });
    }
  }
  const network = networkErrorCode(error);
  if (network) return new TransientError(`network error (${network}): ${describeError(error)}`, { code: network, cause: error });
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new TransientError(`timed out: ${describeError(error)}`, { code: 'Timeout', cause: error });
  }
  return undefined;
}

/** HTTP statuses worth retrying: timeouts, conflicts in flight, throttling and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A `Retry-After` header (seconds or an HTTP date) in whole seconds from `now`; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null | undefined, now: Date = new Date()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * The fallback every destination's classifier ends with: a {@link DeliveryError} passes through,
 * network failures are classified as {@link classifyNetworkFailure} says, retryable statuses are
 * transient (with the server's `Retry-After`), other HTTP answers are permanent, and anything
 * unknown is transient, so it is retried and lands in the dead-letter queue for redrive rather
 * than being dropped.
 */
export function classifyGeneric(error: unknown, status?: number, retryAfter?: string | null): DeliveryError {
  const network = classifyNetworkFailure(error);
  if (network) return network;
  const message = describeError(error);
  if (status !== undefined) {
    return isRetryableStatus(status)
      ? new TransientError(`HTTP ${status}: ${message}`, { code: `HTTP${status}`, cause: error, retryAfterSeconds: retryAfterSeconds(retryAfter) })
      : new PermanentError(`HTTP ${status}: ${message}`, { code: `HTTP${status}`, cause: error });
  }
  return new TransientError(message, { code: 'Unexpected', cause: error });
}
