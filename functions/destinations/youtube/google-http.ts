import type { OutboundNetwork, OutgoingRequest } from '../../../shared/destination/index.ts';
import { GoogleApiError, type YouTubeOperation } from './errors.ts';
import type { AccessTokens } from './oauth.ts';

/** How one delivery reaches Google: through the function's guarded network, stopped by its signal. */
export interface GoogleConnection {
  readonly network: OutboundNetwork;
  readonly signal: AbortSignal;
}

/**
 * One request over the guarded network. Redirects are not followed: a resumable upload's `308
 * Resume Incomplete` is an answer, not a redirect.
 */
export function googleRequest(connection: GoogleConnection, url: string, init: OutgoingRequest): Promise<Response> {
  return connection.network.fetch(url, { ...init, signal: connection.signal });
}

interface GoogleErrorBody {
  readonly error?: { readonly message?: string; readonly errors?: readonly { readonly reason?: string; readonly domain?: string; readonly message?: string }[] };
}

/** The error a non-2xx answer carries, read from Google's error body (or its status alone). */
export async function googleApiError(operation: YouTubeOperation, response: Response): Promise<GoogleApiError> {
  const text = await response.text().catch(() => '');
  let body: GoogleErrorBody = {};
  try {
    body = JSON.parse(text) as GoogleErrorBody;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const first = body.error?.errors?.[0];
  const message = body.error?.message ?? first?.message ?? (text.slice(0, 200) || response.statusText);
  return new GoogleApiError(operation, response.status, first?.reason ?? '', first?.domain ?? '', message, response.headers.get('retry-after'));
}

/** A JSON call of the Data API with the delivery's bearer token; throws {@link GoogleApiError} on a non-2xx answer. */
export function googleJson<Result>(
  connection: GoogleConnection,
  operation: YouTubeOperation,
  url: string,
  tokens: AccessTokens,
  init: { readonly method: 'GET' | 'POST'; readonly body?: unknown } = { method: 'GET' },
): Promise<Result> {
  return tokens.use(async (accessToken) => {
    const response = await googleRequest(connection, url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    if (!response.ok) throw await googleApiError(operation, response);
    return (await response.json()) as Result;
  });
}
