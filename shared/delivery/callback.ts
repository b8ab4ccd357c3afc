import { createHmac, randomUUID } from 'node:crypto';
import type { OutboundNetwork } from '../net/outbound-network.ts';
import { classifyGeneric, isRetryableStatus } from './classify.ts';

export const signatureHeader = 'upload-destinations-signature';
/** One callback's id: the same on its retries, so a receiver can drop a duplicate. */
export const eventHeader = 'upload-destinations-event';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<event id>.<url>.<body>">`: a receiver checks
 * origin and freshness, and, since the URL it was sent to is signed, that a callback captured on
 * its way to another receiver cannot be replayed to it; the event id lets it drop duplicates.
 */
export function signCallback(body: string, key: string, at: Date, sentTo: { readonly url: string; readonly eventId: string }): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  const digest = createHmac('sha256', key).update(`${timestamp}.${sentTo.eventId}.${sentTo.url}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

export interface CallbackOutcome {
  readonly state: 'sent' | 'failed';
  readonly attempts: number;
  readonly status?: number;
  readonly error?: string;
}

export interface CallbackOptions {
  readonly signingKey: () => Promise<string>;
  /** Connects the callback: the function's guarded network. */
  readonly network: OutboundNetwork;
  /** @default 4 */
  readonly attempts?: number;
  /** Delay before the second attempt; later ones double it. @default 1000 */
  readonly backoffMilliseconds?: number;
  /** @default 10000 */
  readonly timeoutMilliseconds?: number;
}

/**
 * Posts a signed JSON callback. Any 2xx counts as delivered; timeouts, 429, 5xx and dropped
 * connections are retried with exponential backoff; other answers fail at once, and so does a
 * callback URL whose host the network guard refuses (private networks, DNS rebinding included).
 * The outcome is recorded on the job, never thrown.
 */
export async function sendCallback(url: string, payload: unknown, options: CallbackOptions): Promise<CallbackOutcome> {
  const attempts = options.attempts ?? 4;
  const backoff = options.backoffMilliseconds ?? 1000;
  const body = JSON.stringify(payload);
  const key = await options.signingKey();
  const eventId = randomUUID();
  let last: CallbackOutcome = { state: 'failed', attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, backoff * 2 ** (attempt - 2)));
    try {
      // No redirect is followed: a redirect is an answer that is not 2xx.
      const response = await options.network.fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [eventHeader]: eventId,
          [signatureHeader]: signCallback(body, key, new Date(), { url, eventId }),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMilliseconds ?? 10_000),
      });
      await response.body?.cancel();
      if (response.ok) return { state: 'sent', attempts: attempt, status: response.status };
      last = { state: 'failed', attempts: attempt, status: response.status, error: `HTTP ${response.status}` };
      if (!isRetryableStatus(response.status)) return last;
    } catch (error) {
      const failure = classifyGeneric(error);
      last = { state: 'failed', attempts: attempt, error: failure.message };
      if (!failure.retryable) return last;
    }
  }
  return last;
}
