/** The codes the SDK's standard retry strategy treats as throttling: worth another try after a pause. */
const throttlingCodes = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** A refusal by an AWS service that another try may not meet: throttling, or the service's own trouble (5xx). */
export function isRetryableAwsRefusal(code: string, statusCode: number): boolean {
  return throttlingCodes.has(code) || statusCode >= 500;
}

/** The SDK's jittered exponential backoff before try `attempt + 1`: 100 ms base, at most 20 s. */
function awsRetryDelay(attempt: number): number {
  return Math.random() * Math.min(20_000, 100 * 2 ** attempt);
}

/**
 * `once`'s answer, tried up to `tries` times in all with the SDK's backoff between tries, as long as
 * `again` takes a failure for one another try may not meet; the last failure is thrown.
 */
export async function withAwsRetries<T>(tries: number, once: () => Promise<T>, again: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await once();
    } catch (error) {
      if (attempt >= tries || !again(error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, awsRetryDelay(attempt)));
  }
}

/**
 * One try, given up when it has no answer within `timeoutMs`: `once` gets a signal that fires then
 * (or with `signal`), and a try cut short by the time fails as `timedOut(cause)`, not as the abort.
 * The timer is cleared with the try: `AbortSignal.timeout`'s would stay armed, with its signal, for
 * the whole timeout after each call (thousands at once in a busy ingress).
 */
export async function withinTime<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  once: (signal: AbortSignal) => Promise<T>,
  timedOut: (cause: unknown) => Error,
): Promise<T> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    return await once(signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal);
  } catch (caught) {
    if (timeout.signal.aborted && !(signal?.aborted ?? false)) throw timedOut(caught);
    throw caught;
  } finally {
    clearTimeout(timer);
  }
}
