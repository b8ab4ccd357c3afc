import { createHmac } from 'node:crypto';
import { describeError } from '../errors.ts';
import { isRetryableStatus } from './classify.ts';
import { resolvesToPrivateNetwork } from '../net/address-guard.ts';

export const signatureHeader = 'upload-destinations-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, so receivers can check origin and freshness. */
export function signCallback(body: string, key: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  const digest = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
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
  readonly allowPrivateNetworks: boolean;
  /** @default 4 */
  readonly attempts?: number;
  /** Delay before the second attempt; later ones double it. @default 1000 */
  readonly backoffMilliseconds?: number;
  /** @default 10000 */
  readonly timeoutMilliseconds?: number;
}

/**
 * Posts a signed JSON callback. Any 2xx counts as delivered; timeouts, 429 and 5xx are retried with
 * exponential backoff; other answers fail at once. The outcome is recorded on the job, never thrown.
 */
export async function sendCallback(url: string, payload: unknown, options: CallbackOptions): Promise<CallbackOutcome> {
  const attempts = options.attempts ?? 4;
  const backoff = options.backoffMilliseconds ?? 1000;
  if (!options.allowPrivateNetworks && (await resolvesToPrivateNetwork(url).catch(() => true))) {
    return { state: 'failed', attempts: 0, error: 'callback_url is on a private network or does not resolve' };
  }
  const body = JSON.stringify(payload);
  const key = await options.signingKey();
  let last: CallbackOutcome = { state: 'failed', attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, backoff * 2 ** (attempt - 2)));
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [signatureHeader]: signCallback(body, key, new Date()) },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMilliseconds ?? 10_000),
      });
      await response.body?.cancel();
      if (response.ok) return { state: 'sent', attempts: attempt, status: response.status };
      last = { state: 'failed', attempts: attempt, status: response.status, error: `HTTP ${response.status}` };
      if (!isRetryableStatus(response.status)) return last;
    } catch (error) {
      last = { state: 'failed', attempts: attempt, error: describeError(error) };
    }
  }
  return last;
}
