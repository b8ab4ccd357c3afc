/** A failure answered instead of doing the work: a 5xx, or a throttle with a retry hint. */
export interface ArmedFailure {
  readonly status: number;
  /** Set for throttles: the seconds the provider asks the client to wait. */
  readonly retryAfterSeconds?: number;
  /** The provider's own error code, where it has several for the case (Meta's rate limits: 4, 17, 32, 613). */
  readonly code?: number;
}

interface Armed<T> {
  readonly endpoint: string | undefined;
  remaining: number;
  readonly value: T;
}

/** Which requests a fault applies to: one endpoint by name (`'files/upload'`, `'upload'`, …), or any. */
export interface FaultTarget {
  /** @default any endpoint */
  readonly endpoint?: string;
}

/**
 * Faults a test arms on a fake. Each is consumed by the first matching request(s), in the order
 * armed, so a test states exactly which request fails and every other request behaves normally.
 */
export class Faults {
  readonly #failures: Armed<ArmedFailure>[] = [];
  readonly #drops: Armed<number>[] = [];
  readonly #lostAnswers: Armed<true>[] = [];

  /** Answers the next `times` matching requests with `status` (500, 503, …) and the provider's error body, doing no work. */
  failNext(options: FaultTarget & { readonly times?: number; readonly status?: number } = {}): void {
    this.#failures.push({ endpoint: options.endpoint, remaining: options.times ?? 1, value: { status: options.status ?? 503 } });
  }

  /** Answers the next `times` matching requests as the provider throttles: its status, body and retry hint. */
  throttleNext(options: FaultTarget & { readonly times?: number; readonly retryAfterSeconds?: number; readonly code?: number } = {}): void {
    this.#failures.push({
      endpoint: options.endpoint,
      remaining: options.times ?? 1,
      value: { status: 429, retryAfterSeconds: options.retryAfterSeconds ?? 1, ...(options.code === undefined ? {} : { code: options.code }) },
    });
  }

  /**
   * Destroys the connection once the next matching upload request has delivered `bytes` body bytes.
   * The fake keeps what it received, as far as the provider keeps partial requests, and sends no answer.
   */
  dropConnectionAfter(bytes: number, options: FaultTarget = {}): void {
    this.#drops.push({ endpoint: options.endpoint, remaining: 1, value: bytes });
  }

  /** Lets the next matching request do its work, then destroys the connection instead of answering. */
  loseNextAnswer(options: FaultTarget = {}): void {
    this.#lostAnswers.push({ endpoint: options.endpoint, remaining: 1, value: true });
  }

  /** Disarms every fault not yet consumed. */
  clear(): void {
    this.#failures.length = 0;
    this.#drops.length = 0;
    this.#lostAnswers.length = 0;
  }

  /** @internal The failure armed for this request, consuming it. */
  takeFailure(endpoint: string): ArmedFailure | undefined {
    return take(this.#failures, endpoint);
  }

  /** @internal The byte count after which this upload request's connection drops, consuming it. */
  takeDrop(endpoint: string): number | undefined {
    return take(this.#drops, endpoint);
  }

  /** @internal Whether this request's answer is to be lost, consuming the fault. */
  takeLostAnswer(endpoint: string): boolean {
    return take(this.#lostAnswers, endpoint) ?? false;
  }
}

function take<T>(armed: Armed<T>[], endpoint: string): T | undefined {
  const index = armed.findIndex((entry) => entry.endpoint === undefined || entry.endpoint === endpoint);
  const entry = armed[index];
  if (!entry) return undefined;
  entry.remaining -= 1;
  if (entry.remaining <= 0) armed.splice(index, 1);
  return entry.value;
}
