import type { Exchange } from './exchange.ts';
import type { ProviderDialect } from './fake-server.ts';
import type { TokenCheck } from './tokens.ts';

/** A Dropbox union value: `{ ".tag": name, …fields }`. */
export interface TaggedUnion {
  readonly '.tag': string;
  readonly [field: string]: unknown;
}

/** The `error_summary` Dropbox derives from an error's nested tags: `path/conflict/file/..`. */
function errorSummary(error: TaggedUnion): string {
  const tags: string[] = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && '.tag' in current) {
    const tag = String((current as TaggedUnion)['.tag']);
    tags.push(tag);
    const fields = current as Record<string, unknown>;
    // A union variant carries its value under its own tag, or (for a struct variant) under `reason`.
    current = fields[tag] ?? fields.reason;
  }
  return `${tags.join('/')}/..`;
}

/** Answers an endpoint-specific error: HTTP 409 with `{ error_summary, error }`. */
export function answerEndpointError(exchange: Exchange, error: TaggedUnion): void {
  exchange.answerJson(409, { error_summary: errorSummary(error), error });
}

/** Answers a malformed request as Dropbox does: HTTP 400 with a plain-text explanation. */
export function answerBadInput(exchange: Exchange, problem: string): void {
  exchange.answerText(400, `Error in call to API function "${exchange.endpoint}": ${problem}`);
}

/**
 * Answers a request whose token did not pass: 400 text without a usable `Authorization` header,
 * 401 `invalid_access_token` / `expired_access_token`, 401 `missing_scope` with the scope needed.
 * Returns false when the token passed.
 */
export function refuseDropboxToken(exchange: Exchange, check: TokenCheck, authorization: string | undefined): boolean {
  const answerAuthError = (error: TaggedUnion): void => exchange.answerJson(401, { error_summary: errorSummary(error), error });
  switch (check.outcome) {
    case 'granted':
      return false;
    case 'missing':
      answerBadInput(
        exchange,
        authorization === undefined
          ? 'Must provide HTTP header "Authorization" or URL parameter "authorization".'
          : `Invalid authorization value in HTTP header "Authorization": "${authorization}".  Expecting "Bearer <oauth2-access-token>".`,
      );
      return true;
    case 'unknown':
      answerAuthError({ '.tag': 'invalid_access_token' });
      return true;
    case 'expired':
      answerAuthError({ '.tag': 'expired_access_token' });
      return true;
    case 'insufficient':
      answerAuthError({ '.tag': 'missing_scope', required_scope: check.missing.join(' ') });
      return true;
  }
}

/** How Dropbox answers unknown routes, armed 5xx and throttles. */
export const dropboxDialect: ProviderDialect = {
  answerUnknownRoute: (exchange) => exchange.answerText(404, `Unknown API function: "${exchange.url.pathname}".`),
  answerFailure: (exchange, failure) => {
    if (failure.retryAfterSeconds === undefined) {
      exchange.answerText(failure.status, failure.status === 503 ? 'Service Unavailable' : 'Internal Server Error');
      return;
    }
    const error = { reason: { '.tag': 'too_many_requests' }, retry_after: failure.retryAfterSeconds };
    exchange.answerJson(429, { error_summary: 'too_many_requests/..', error }, { 'retry-after': String(failure.retryAfterSeconds) });
  },
  answerInternalError: (exchange, error) => exchange.answerText(500, `fake: ${String(error)}`),
};
