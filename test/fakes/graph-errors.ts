import type { Exchange } from './exchange.ts';
import type { ProviderDialect } from './fake-server.ts';
import { randomIdentifier } from './identifiers.ts';
import type { TokenCheck } from './tokens.ts';

/** The fields of a Graph API error, under `error`. */
export interface GraphProblem {
  readonly message: string;
  /** @default 'OAuthException' */
  readonly type?: string;
  readonly code: number;
  readonly error_subcode?: number;
  readonly error_user_title?: string;
  readonly error_user_msg?: string;
  readonly error_data?: Record<string, unknown>;
  readonly is_transient?: boolean;
}

/** Answers `{ error: { message, type, code, error_subcode, fbtrace_id, … } }`, the Graph API's error body. */
export function answerGraphError(exchange: Exchange, status: number, problem: GraphProblem): void {
  const headers = problem.code === 190 ? { 'www-authenticate': `OAuth "Facebook Platform" "invalid_token" "${problem.message}"` } : {};
  exchange.answerJson(status, { error: { type: 'OAuthException', ...problem, fbtrace_id: randomIdentifier(11) } }, headers);
}

/** The Graph errors the fake answers, by cause. */
export const graphErrors = {
  unsupportedRequest: (method: string, id: string): GraphProblem => ({
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    type: 'GraphMethodException',
    code: 100,
    error_subcode: 33,
  }),
  invalidParameter: (message: string): GraphProblem => ({ message: `(#100) ${message}`, code: 100 }),
  nonexistingField: (field: string, nodeType: string): GraphProblem => ({ message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`, code: 100 }),
  permissionsError: (message: string): GraphProblem => ({ message: `(#200) ${message}`, code: 200 }),
  appPermission: (): GraphProblem => ({ message: '(#10) Application does not have permission for this action', code: 10 }),
  uploadTimedOut: (): GraphProblem => ({
    message: 'There was a problem uploading your video file. Please try again.',
    code: 6000,
    error_subcode: 1363030,
    is_transient: false,
    error_user_title: 'Video Upload Time Out',
    error_user_msg: "Your video upload timed out before it could be completed. This is probably because of a slow network connection or because the video you're trying to upload is too large. Please try again.",
  }),
  /** A chunk at the wrong offset; `error_data` says where the upload stands. */
  uploadOffset: (startOffset: number, endOffset: number): GraphProblem => ({
    message: 'There was a problem uploading your video. Please try again.',
    code: 6001,
    error_subcode: 1363037,
    error_data: { start_offset: startOffset, end_offset: endOffset },
    is_transient: false,
    error_user_title: 'Error Uploading Video',
    error_user_msg: 'There was a problem uploading your video. Please try uploading it again.',
  }),
};

const rateLimitMessages: Record<number, string> = {
  4: '(#4) Application request limit reached',
  17: '(#17) User request limit reached',
  32: '(#32) Page request limit reached',
  613: '(#613) Calls to this api have exceeded the rate limit.',
};

/**
 * Answers a request whose token did not pass: code 104 (2500 on `/me`) without one, 190 for an
 * unknown one, 190 with subcode 463 for an expired one (all HTTP 400), 200 for missing permissions
 * (HTTP 403). Returns false when the token passed.
 */
export function refuseGraphToken(exchange: Exchange, check: TokenCheck): boolean {
  switch (check.outcome) {
    case 'granted':
      return false;
    case 'missing':
      answerGraphError(
        exchange,
        400,
        exchange.endpoint === 'me'
          ? { message: 'An active access token must be used to query information about the current user.', code: 2500 }
          : { message: 'An access token is required to request this resource.', code: 104 },
      );
      return true;
    case 'unknown':
      answerGraphError(exchange, 400, { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 });
      return true;
    case 'expired':
      answerGraphError(exchange, 400, {
        message: `Error validating access token: Session has expired on ${new Date(check.grant.expiresAt).toUTCString()}. The current time is ${new Date().toUTCString()}.`,
        code: 190,
        error_subcode: 463,
      });
      return true;
    case 'insufficient':
      answerGraphError(exchange, 403, graphErrors.permissionsError(`Requires the ${check.missing.join(', ')} permission(s)`));
      return true;
  }
}

/** How the Graph API answers unknown paths, armed 5xx and throttles (rate limits are Graph errors, HTTP 400). */
export const graphDialect: ProviderDialect = {
  normalizePath: (path) => path.replace(/^\/v\d+\.\d+(?=\/)/, ''),
  answerUnknownRoute: (exchange) => answerGraphError(exchange, 400, graphErrors.unsupportedRequest(exchange.method, exchange.url.pathname.split('/').pop() ?? '')),
  answerFailure: (exchange, failure) => {
    if (failure.retryAfterSeconds !== undefined) {
      const code = failure.code ?? 4;
      answerGraphError(exchange, 400, { message: rateLimitMessages[code] ?? `(#${code}) Rate limit reached`, code, is_transient: true });
      return;
    }
    const transient = failure.status === 503
      ? { message: 'An unexpected error has occurred. Please retry your request later.', code: 2, is_transient: true }
      : { message: 'An unknown error has occurred.', code: 1, is_transient: true };
    answerGraphError(exchange, failure.status, transient);
  },
  answerInternalError: (exchange, error) => answerGraphError(exchange, 500, { message: `fake: ${String(error)}`, code: 1 }),
};
