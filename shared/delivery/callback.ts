import { createHash, createHmac } from 'node:crypto';
import { discardAnswer } from '../net/http-client.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';
import { classifyGeneric, isRetryableStatus } from './classify.ts';

export const signatureHeader = 'upload-destinations-signature';
/** One callback's id: the same on its retries and when it is sent again ({@link callbackEventId}), so a receiver can drop a duplicate. */
export const eventHeader = 'upload-destinations-event';

/**
 * A callback's event id: a digest of what it reports, shaped as a UUID (version 8). A callback is
 * sent again whole when its sender ended before recording it sent (a crash, a timeout), from
 * another function with no memory of the first: only an id derived from what it reports (the job
 * as its outcome left it, token and every destination's final record) is the same then.
 */
export function callbackEventId(body: string): string {
  const bytes = createHash('sha256').update(body).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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
  const eventId = callbackEventId(body);
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
      await discardAnswer(response);
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
