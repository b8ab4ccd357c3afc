import type { Exchange } from './exchange.ts';
import type { TokenRegistry } from './tokens.ts';

/** An OAuth client registered with a fake's token endpoint. */
export interface OAuthClient {
  readonly clientId: string;
  /** Undefined for a public (PKCE) client, which refreshes with its client ID alone. */
  readonly clientSecret?: string;
}

/** Where the providers' token endpoints differ. */
export interface TokenEndpointDialect {
  /** `Bearer` at Google, `bearer` at Dropbox. */
  readonly tokenType: string;
  readonly accessLifetimeSeconds: number;
  /** Google answers an unknown client or wrong secret with 401, Dropbox with 400. */
  readonly invalidClientStatus: number;
  readonly invalidGrantDescription: string;
}

/**
 * Answers an OAuth 2.0 token request: the refresh_token grant (RFC 6749 §6) and the
 * authorization_code grant (§4.1.3, with PKCE) that ends a consent flow. Parameters may come in a
 * form body or the query string (the Dropbox SDK sends them in the query), client credentials in
 * the body or an HTTP Basic header. Errors are `{ error, error_description }`.
 */
export async function answerTokenRequest(exchange: Exchange, tokens: TokenRegistry, clients: readonly OAuthClient[], dialect: TokenEndpointDialect): Promise<void> {
  const parameters = new URLSearchParams(exchange.url.search);
  for (const [name, value] of new URLSearchParams((await exchange.readSmallBody(64 * 1024)).toString())) parameters.set(name, value);
  const basic = basicCredentials(exchange.header('authorization'));
  const clientId = parameters.get('client_id') ?? basic?.clientId ?? '';
  const clientSecret = parameters.get('client_secret') ?? basic?.clientSecret;
  const refuse = (status: number, error: string, description: string): void => exchange.answerJson(status, { error, error_description: description });

  const grantType = parameters.get('grant_type');
  if (grantType !== 'refresh_token' && grantType !== 'authorization_code') return refuse(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  const client = clients.find((candidate) => candidate.clientId === clientId);
  if (!client) return refuse(dialect.invalidClientStatus, 'invalid_client', 'The OAuth client was not found.');
  if (client.clientSecret !== undefined && client.clientSecret !== clientSecret) return refuse(dialect.invalidClientStatus, 'invalid_client', 'Unauthorized');
  if (grantType === 'authorization_code') {
    const code = parameters.get('code');
    const redirectUri = parameters.get('redirect_uri');
    if (!code || !redirectUri) return refuse(400, 'invalid_request', `Missing required parameter: ${code ? 'redirect_uri' : 'code'}`);
    const exchanged = tokens.exchangeCode(code, { clientId, redirectUri, codeVerifier: parameters.get('code_verifier') ?? undefined }, dialect.accessLifetimeSeconds);
    if (!exchanged) return refuse(400, 'invalid_grant', 'Bad Request');
    return exchange.answerJson(200, {
      access_token: exchanged.accessToken,
      token_type: dialect.tokenType,
      expires_in: dialect.accessLifetimeSeconds,
      scope: [...exchanged.grant.scopes].join(' '),
      refresh_token: exchanged.refreshToken,
    });
  }
  const refreshToken = parameters.get('refresh_token');
  if (!refreshToken) return refuse(400, 'invalid_request', 'Missing required parameter: refresh_token');
  const issued = tokens.refresh(refreshToken, clientId, dialect.accessLifetimeSeconds);
  if (!issued) return refuse(400, 'invalid_grant', dialect.invalidGrantDescription);
  exchange.answerJson(200, {
    access_token: issued.accessToken,
    token_type: dialect.tokenType,
    expires_in: dialect.accessLifetimeSeconds,
    scope: [...issued.grant.scopes].join(' '),
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
  });
}

function basicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
}
