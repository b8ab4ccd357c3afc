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
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** `error` and the errors it wraps (`fetch` and the SDKs wrap what the socket reported). */
function* causeChain(error: unknown): Generator<unknown> {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The socket error code of `error` or of any error in its cause chain. */
export function networkErrorCode(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && transientNetworkCodes.has(code)) return code;
  }
  return undefined;
}

/** The network guard's refusal in `error`'s cause chain, if any. */
function addressRefusalIn(error: unknown): AddressNotAllowedError | undefined {
  for (const current of causeChain(error)) if (current instanceof AddressNotAllowedError) return current;
  return undefined;
}

/** HTTP statuses worth retrying: timeouts, conflicts in flight, throttling and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * The fallback every destination's classifier ends with: a {@link DeliveryError} passes through;
 * a connection the network guard refused is permanent (code `EADDRNOTALLOWED`, the message naming
 * the host and address: the same host gets the same answer next time); network failures and
 * retryable statuses are transient, other HTTP answers are permanent, and anything unknown is
 * transient, so it is retried and lands in the dead-letter queue for redrive rather than being
 * dropped.
 */
export function classifyGeneric(error: unknown, status?: number): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const message = describeError(error);
  const refused = addressRefusalIn(error);
  if (refused) {
    const context = refused === error ? '' : `${message}: `;
    return new PermanentError(`${context}${refused.message}`, { code: refused.code, cause: error });
  }
  const network = networkErrorCode(error);
  if (network) return new TransientError(`network error (${network}): ${message}`, { code: network, cause: error });
  if (status !== undefined) {
    return isRetryableStatus(status)
      ? new TransientError(`HTTP ${status}: ${message}`, { code: `HTTP${status}`, cause: error })
      : new PermanentError(`HTTP ${status}: ${message}`, { code: `HTTP${status}`, cause: error });
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new TransientError(`timed out: ${message}`, { code: 'Timeout', cause: error });
  }
  return new TransientError(message, { code: 'Unexpected', cause: error });
}
