import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../../shared/destination/index.ts';
import { classifyDropboxError } from './errors.ts';

/** How one request is tried again within an attempt, before the attempt itself fails. */
export interface RetrySettings {
  /** Pause before each further try; their count is the number of further tries. @default [1000, 4000] */
  readonly delaysMs: readonly number[];
  /** A throttle asking for a longer wait fails the attempt instead (the queue waits, not the function). @default 30 */
  readonly maxRetryAfterSeconds: number;
}

export const defaultRetrySettings: RetrySettings = { delaysMs: [1000, 4000], maxRetryAfterSeconds: 30 };

/**
 * Waits before trying a failed request again, or rethrows `error` when it is not worth trying
 * now: a permanent failure, an aborted attempt, the tries used up, or a throttle whose wait is
 * better spent in the queue (the resume state lets the next attempt continue).
 */
export async function pauseBeforeRetry(error: unknown, attempt: number, settings: RetrySettings, signal: AbortSignal): Promise<void> {
  const delay = settings.delaysMs[attempt];
  const classified = classifyDropboxError(error);
  if (signal.aborted || delay === undefined || !(classified instanceof TransientError)) throw error;
  const asked = classified.retryAfterSeconds ?? 0;
  if (asked > settings.maxRetryAfterSeconds) throw error;
  await sleep(Math.max(delay, asked * 1000), undefined, { signal });
}
