import type { OutgoingHttpHeaders } from 'node:http';
import type { Exchange } from './exchange.ts';
import type { ProviderDialect } from './fake-server.ts';
import type { TokenCheck } from './tokens.ts';

/** One entry of a Google error's `errors` list. */
export interface GoogleProblem {
  readonly reason: string;
  readonly message: string;
  /** @default 'global' */
  readonly domain?: string;
  readonly location?: string;
  readonly locationType?: string;
}

const statusNames: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Answers `{ error: { code, message, errors: [ … ], status } }`, the Google APIs' error body. */
export function answerGoogleError(exchange: Exchange, code: number, problem: GoogleProblem, headers: OutgoingHttpHeaders = {}, message = problem.message): void {
  exchange.answerJson(
    code,
    { error: { code, message, errors: [{ message: problem.message, domain: problem.domain ?? 'global', reason: problem.reason, ...locationOf(problem) }], status: statusNames[code] ?? 'UNKNOWN' } },
    headers,
    'application/json; charset=UTF-8',
  );
}

function locationOf(problem: GoogleProblem): Record<string, string> {
  return problem.location === undefined ? {} : { location: problem.location, locationType: problem.locationType ?? 'parameter' };
}

const credentialHint = 'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/**
 * Answers a request whose token did not pass, as Google APIs do: 401 `required` without a token,
 * 401 `authError` for an unknown or expired one, 403 `insufficientPermissions` for missing scopes.
 * Returns false when the token passed and the request may go on.
 */
export function refuseGoogleToken(exchange: Exchange, check: TokenCheck): boolean {
  const realm = 'Bearer realm="https://accounts.google.com/"';
  switch (check.outcome) {
    case 'granted':
      return false;
    case 'missing':
      answerGoogleError(
        exchange,
        401,
        { reason: 'required', message: 'Login Required.', location: 'Authorization', locationType: 'header' },
        { 'www-authenticate': realm },
        `Request is missing required authentication credential. ${credentialHint}`,
      );
      return true;
    case 'unknown':
    case 'expired':
      answerGoogleError(
        exchange,
        401,
        { reason: 'authError', message: 'Invalid Credentials', location: 'Authorization', locationType: 'header' },
        { 'www-authenticate': `${realm}, error="invalid_token"` },
        `Request had invalid authentication credentials. ${credentialHint}`,
      );
      return true;
    case 'insufficient':
      answerGoogleError(
        exchange,
        403,
        { reason: 'insufficientPermissions', message: 'Insufficient Permission' },
        { 'www-authenticate': `${realm}, error="insufficient_scope", scope="${check.missing.join(' ')}"` },
        'Request had insufficient authentication scopes.',
      );
      return true;
  }
}

/** How Google APIs answer unknown paths, armed 5xx and throttles. */
export const googleDialect: ProviderDialect = {
  answerUnknownRoute: (exchange) => answerGoogleError(exchange, 404, { reason: 'notFound', message: 'Not Found' }),
  answerFailure: (exchange, failure) => {
    if (failure.retryAfterSeconds !== undefined) {
      answerGoogleError(exchange, 429, { reason: 'rateLimitExceeded', message: 'Resource has been exhausted (e.g. check quota).', domain: 'usageLimits' }, {
        'retry-after': String(failure.retryAfterSeconds),
      });
      return;
    }
    const reason = failure.status === 503 ? 'backendError' : 'internalError';
    answerGoogleError(exchange, failure.status, { reason, message: failure.status === 503 ? 'The service is currently unavailable.' : 'Internal error encountered.' });
  },
  answerInternalError: (exchange, error) => answerGoogleError(exchange, 500, { reason: 'internalError', message: `fake: ${String(error)}` }),
};
