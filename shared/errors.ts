import { redactText } from './net/redact.ts';

/**
 * Every failure the service reports is one of these. The class says what the queue should do
 * with the delivery: a {@link PermanentError} fails it at once, a {@link TransientError} is retried
 * with backoff and dead-lettered after the last attempt. The original error is always kept as `cause`.
 */
export class DeliveryError extends Error {
  /** A short machine-readable reason, e.g. `AccessControlListNotSupported`. */
  public readonly code: string;
  public readonly retryable: boolean;

  public constructor(message: string, options: { code: string; retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/** The destination rejected the delivery for a reason that retrying will not change. */
export class PermanentError extends DeliveryError {
  public constructor(message: string, options: { code: string; cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = 'PermanentError';
  }
}

/** A timeout, a 5xx, a 429 or a dropped connection: worth another attempt later. */
export class TransientError extends DeliveryError {
  /** When the destination said when to come back (`Retry-After`): used instead of the backoff. */
  public readonly retryAfterSeconds: number | undefined;

  public constructor(message: string, options: { code: string; cause?: unknown; retryAfterSeconds?: number }) {
    super(message, { ...options, retryable: true });
    this.name = 'TransientError';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * Not a failure: the destination will take the file only later (a daily upload quota that resets
 * at midnight Pacific). The delivery waits until `until` without spending an attempt, and its
 * status says so.
 */
export class WaitError extends TransientError {
  public readonly until: Date;

  public constructor(message: string, options: { code: string; until: Date; cause?: unknown }) {
    super(message, { ...options, retryAfterSeconds: Math.max(1, Math.ceil((options.until.getTime() - Date.now()) / 1000)) });
    this.name = 'WaitError';
    this.until = options.until;
  }
}

/** One offending field of a request, named by its path (`upload.destination.bucket`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** A request that failed validation; lists every offending field at once. */
export class ValidationError extends Error {
  public readonly fields: readonly FieldError[];

  public constructor(fields: readonly FieldError[]) {
    super(fields.map((field) => `${field.path || '(request)'}: ${field.message}`).join('; '));
    this.name = 'ValidationError';
    this.fields = fields;
  }
}

/** The message of any thrown value, for logs and job records, its URLs and credentials redacted. */
export function describeError(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error));
}
