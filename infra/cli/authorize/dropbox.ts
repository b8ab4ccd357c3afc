import { createHash, randomBytes } from 'node:crypto';

/**
 * Dropbox's part of the consent command (`npm run authorize -- dropbox <name>`): the URL that
 * asks the account owner to let the deployment's app write to their Dropbox, and the exchange of
 * the code Dropbox sends back for a refresh token, which the command stores as
 * `credentials/<name>` (`{ "refresh_token": … }`) for `auth_secret: "<name>"` to name.
 */

/** The scopes a delivery needs: write files, read metadata (to recover from lost answers), create shared links. */
export const dropboxScopesRequested = ['files.content.write', 'files.metadata.read', 'sharing.write'] as const;

/**
 * Dropbox matches redirect URIs exactly, port included, so the command listens on a fixed
 * loopback port, and the app must list this URI in its App Console (OAuth 2 → Redirect URIs).
 */
export const dropboxRedirectUri = 'http://localhost:53682/dropbox';

/** The deployment's Dropbox app, as `application/dropbox` stores it. */
export interface DropboxApp {
  readonly app_key: string;
  readonly app_secret: string;
}

/** A PKCE pair (RFC 7636, S256): the verifier stays with the command, the challenge goes in the URL. */
export interface ProofKey {
  readonly verifier: string;
  readonly challenge: string;
}

export function newProofKey(): ProofKey {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * The consent page's URL: offline access (a refresh token), the scopes a delivery needs, the
 * command's `state` (checked when Dropbox redirects back) and the PKCE challenge.
 *
 * @example
 * ```ts
 * const proof = newProofKey();
 * const url = dropboxAuthorizeUrl({ appKey: app.app_key, state, challenge: proof.challenge });
 * ```
 */
export function dropboxAuthorizeUrl(options: {
  readonly appKey: string;
  readonly state: string;
  readonly challenge: string;
  readonly redirectUri?: string;
  /** @default https://www.dropbox.com */
  readonly site?: string;
}): string {
  const url = new URL('/oauth2/authorize', options.site ?? 'https://www.dropbox.com');
  url.search = new URLSearchParams({
    client_id: options.appKey,
    response_type: 'code',
    token_access_type: 'offline',
    redirect_uri: options.redirectUri ?? dropboxRedirectUri,
    scope: dropboxScopesRequested.join(' '),
    state: options.state,
    code_challenge: options.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.href;
}

/** What the exchange yields: the refresh token to store, and what it grants. */
export interface DropboxGrant {
  readonly refreshToken: string;
  readonly scopes: readonly string[];
  readonly accountId: string | undefined;
}

/** A refused exchange, with Dropbox's OAuth error (`invalid_grant`: the code was used, expired or mismatched). */
export class DropboxAuthorizationError extends Error {
  override readonly name = 'DropboxAuthorizationError';

  constructor(
    readonly status: number,
    readonly error: string | undefined,
    description: string | undefined,
  ) {
    super(`Dropbox refused the authorization code (${status} ${error ?? ''}${description ? `: ${description}` : ''})`);
  }
}

/**
 * Exchanges the code of the redirect for a refresh token (RFC 6749 §4.1.3): the app's key and
 * secret in a Basic header, the code, the redirect URI and the PKCE verifier in the form body
 * (nothing secret in a URL).
 */
export async function exchangeDropboxCode(options: {
  readonly app: DropboxApp;
  readonly code: string;
  readonly verifier: string;
  readonly redirectUri?: string;
  /** @default https://api.dropboxapi.com */
  readonly api?: string;
  readonly fetch?: typeof globalThis.fetch;
}): Promise<DropboxGrant> {
  const fetch = options.fetch ?? globalThis.fetch;
  const response = await fetch(new URL('/oauth2/token', options.api ?? 'https://api.dropboxapi.com'), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${options.app.app_key}:${options.app.app_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri ?? dropboxRedirectUri,
      code_verifier: options.verifier,
    }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.refresh_token !== 'string') {
    const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
    throw new DropboxAuthorizationError(response.status, text(body.error) ?? (response.ok ? 'no_refresh_token' : undefined), text(body.error_description));
  }
  return {
    refreshToken: body.refresh_token,
    scopes: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
    accountId: typeof body.account_id === 'string' ? body.account_id : undefined,
  };
}
