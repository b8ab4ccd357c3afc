import {
  classifyGeneric,
  isRetryableStatus,
  PermanentError,
  retryAfterSeconds,
  TransientError,
  type DeliveryError,
} from '../../../shared/destination/index.ts';

/** A final answer other than a success, with what the server said (bounded, secrets hidden). */
export class HttpAnswerError extends Error {
  public constructor(
    public readonly status: number,
    /** `METHOD url` of the request answered (the url without query). */
    public readonly request: string,
    /** The start of the server's answer, redacted. */
    public readonly serverText: string,
    public readonly headers: { readonly location?: string; readonly retryAfter?: string },
    /** The body had been sent (or begun) when the answer came. */
    public readonly bodySent: boolean,
    /** The request carried an `Idempotency-Key`. */
    public readonly idempotencyKey = false,
  ) {
    super(`HTTP ${status} from ${request}${serverText === '' ? '' : `: ${serverText}`}`);
    this.name = 'HttpAnswerError';
  }
}

/** Why a redirect was not followed. */
export type RedirectProblem = 'after-body' | 'too-many' | 'no-location' | 'not-http' | 'downgrade';

/** A 307 or 308 the upload could not follow; `location` is fit for a record. */
export class RedirectError extends Error {
  public constructor(
    public readonly problem: RedirectProblem,
    public readonly status: number,
    public readonly location: string,
  ) {
    super(`HTTP ${status} redirect to ${location || '(none)'} not followed: ${problem}`);
    this.name = 'RedirectError';
  }
}

/** What to change for the 4xx answers that have one clear cause. */
const advice: Readonly<Record<number, string>> = {
  400: 'the server refused the request as malformed (check fields, fileid and headers against what it expects)',
  401: 'the server refused the credentials (check user and password, or the Authorization header)',
  403: 'the server forbids this upload to these credentials',
  404: 'nothing at this url (check url)',
  405: 'the endpoint does not take this method (try the other of POST and PUT)',
  410: 'nothing at this url any more (check url)',
  411: 'the server needs a Content-Length, and the source did not tell its size',
  413: 'the file is larger than the server takes',
  415: 'the server does not take this content type (set contenttype, or try the other method)',
};

/**
 * How long a 409 to a keyed request waits without a `Retry-After`: servers give up a request body
 * that stopped coming after 30 to 60 s (nginx's `client_body_timeout` is 60 s).
 */
const inProgressWaitSeconds = 30;

function statusError(error: HttpAnswerError): DeliveryError {
  const { status } = error;
  const code = `HTTP${status}`;
  const said = error.serverText === '' ? '' : `; the server said: ${error.serverText}`;
  if (isRetryableStatus(status)) {
    return new TransientError(error.message, { code, cause: error, retryAfterSeconds: retryAfterSeconds(error.headers.retryAfter) });
  }
  if (status === 409 && error.idempotencyKey) {
    // A server that honours Idempotency-Key answers 409 while an earlier request with the key is
    // still in progress (an attempt cut off before its answer, which the server holds until its
    // own timeout): this one is tried again when it has likely given that one up.
    return new TransientError(
      `HTTP 409 from ${error.request}: the server is still working on an earlier attempt of this upload (the same Idempotency-Key), or refused it as a conflict${said}`,
      { code, cause: error, retryAfterSeconds: retryAfterSeconds(error.headers.retryAfter) ?? inProgressWaitSeconds },
    );
  }
  if (status === 301 || status === 302 || status === 303) {
    return new PermanentError(
      `HTTP ${status} from ${error.request}: the server redirects to ${error.headers.location ?? '(no location)'}, and following it would ` +
        `turn the upload into a GET; set url to the address that takes the upload${said}`,
      { code, cause: error },
    );
  }
  if (status >= 200 && status < 300 && !error.bodySent) {
    return new PermanentError(
      `HTTP ${status} from ${error.request} before the file was sent: the server answered Expect: 100-continue with a success ` +
        `instead of waiting for the body, so nothing was delivered`,
      { code: 'AnsweredBeforeBody', cause: error },
    );
  }
  const hint = advice[status];
  return new PermanentError(hint === undefined ? error.message : `HTTP ${status} from ${error.request}: ${hint}${said}`, { code, cause: error });
}

function redirectError(error: RedirectError): DeliveryError {
  const { status, location } = error;
  switch (error.problem) {
    case 'after-body':
      // The source is read once per attempt: the body cannot go again to the new address now.
      return status === 308
        ? new PermanentError(`HTTP 308: the endpoint has moved to ${location} (said only after the file was sent): set url to it`, {
            code: 'RedirectAfterBody',
            cause: error,
          })
        : new TransientError(
            `HTTP 307 to ${location} came after the file was sent, which cannot be sent twice in one attempt; ` +
              `the next attempt asks first (Expect: 100-continue)`,
            { code: 'RedirectAfterBody', cause: error },
          );
    case 'too-many':
      return new PermanentError(`more than 5 redirects (the last to ${location}): set url to the final address`, { code: 'TooManyRedirects', cause: error });
    case 'no-location':
      return new PermanentError(`HTTP ${status} without a Location to follow`, { code: 'BadRedirect', cause: error });
    case 'not-http':
      return new PermanentError(`HTTP ${status} to ${location}, which is not an http or https address`, { code: 'BadRedirect', cause: error });
    case 'downgrade':
      return new PermanentError(`HTTP ${status} from https to plain http (${location}): refused, as the file and credentials would travel in clear`, {
        code: 'RedirectDowngrade',
        cause: error,
      });
  }
}

/**
 * Decides whether an HTTP upload's failure is worth another attempt, keeping it as the cause:
 * 408, 425, 429 and 5xx are transient (after the server's `Retry-After` when it gives one), other
 * answers permanent with what to change and what the server said; redirects that could not be
 * followed say why; network failures as every destination classifies them.
 */
export function classifyHttpError(error: unknown): DeliveryError {
  if (error instanceof HttpAnswerError) return statusError(error);
  if (error instanceof RedirectError) return redirectError(error);
  return classifyGeneric(error);
}
