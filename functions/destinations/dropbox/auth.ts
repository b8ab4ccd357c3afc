import { createHash } from 'node:crypto';
import { basicAuthorization, PermanentError, retryAfterSeconds, type StoredCredentials } from '../../../shared/destination/index.ts';
import type { Fetch } from './client.ts';
import type { DropboxEndpoints } from './endpoints.ts';
import type { DropboxDestinationFields } from './schema.ts';

/** How Dropbox is reached: where, and through which (guarded) fetch. */
export interface DropboxTransport {
  readonly endpoints: DropboxEndpoints;
  readonly fetch: Fetch;
}

/** A failed answer of Dropbox's OAuth token endpoint (RFC 6749 §5.2). */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError';

  constructor(
    readonly status: number,
    /** `invalid_grant`, `invalid_client`, … or undefined when the body was not OAuth's. */
    readonly error: string | undefined,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`Dropbox's token endpoint answered ${status}${error ? ` ${error}` : ''}`);
  }
}

/** The app's key and secret (`application/dropbox`), and the field that names the refresh token. */
interface RefreshGrant {
  readonly appKey: string;
  readonly appSecret: string;
  readonly refreshToken: string;
  readonly reference: string;
}

interface CachedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
}

/**
 * A minted token is reused by later deliveries of a warm function only while it outlives any
 * delivery (a function runs 15 minutes at most), so it never expires mid-upload.
 */
const reuseMarginMilliseconds = 20 * 60 * 1000;
const maxCachedTokens = 64;

/** Access tokens minted by this function instance, by app and refresh token (hashed). */
const mintedTokens = new Map<string, CachedToken>();

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function refreshGrant(reference: string, credentials: StoredCredentials, application: Readonly<Record<string, string>> | undefined): Promise<RefreshGrant> {
  const appKey = text(application?.app_key);
  const appSecret = text(application?.app_secret);
  if (!appKey || !appSecret) {
    throw new PermanentError(
      "auth_secret: the deployment has no Dropbox app: store the app's key and secret as the secret 'application/dropbox' ({\"app_key\": …, \"app_secret\": …}) under the service's secret prefix",
      { code: 'DropboxAppMissing' },
    );
  }
  const stored = await credentials.read(reference);
  const refreshToken = text(stored.refresh_token);
  if (!refreshToken) {
    throw new PermanentError(`auth_secret: the stored secret '${reference}' holds no refresh_token: authorize again with npm run authorize -- dropbox ${reference}`, {
      code: 'InvalidSecret',
    });
  }
  return { appKey, appSecret, refreshToken, reference };
}

/** Exchanges the refresh token for a short-lived access token; a rotated refresh token is written back. */
async function mint(grant: RefreshGrant, credentials: StoredCredentials, transport: DropboxTransport, signal: AbortSignal): Promise<CachedToken> {
  const response = await transport.fetch(`${transport.endpoints.api}/oauth2/token`, {
    method: 'POST',
    // The client in a Basic header and the token in the body: neither in a URL, where logs keep them.
    headers: { authorization: basicAuthorization(grant.appKey, grant.appSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken }).toString(),
    signal,
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || !text(body.access_token)) {
    throw new TokenEndpointError(response.status, text(body.error), retryAfterSeconds(response.headers.get('retry-after')));
  }
  const rotated = text(body.refresh_token);
  if (rotated && rotated !== grant.refreshToken) await credentials.update(grant.reference, { refresh_token: rotated });
  const lifetimeSeconds = typeof body.expires_in === 'number' ? body.expires_in : 0;
  return { accessToken: String(body.access_token), expiresAt: Date.now() + lifetimeSeconds * 1000 };
}

/**
 * The access token a delivery uses: `oauth_token` as given, or one minted from the refresh token
 * `auth_secret` names with the deployment's app (`context.application`). Minted tokens are kept
 * for later deliveries of the same function instance while they have long to live.
 */
export async function accessTokenFor(
  destination: DropboxDestinationFields,
  access: { readonly credentials: StoredCredentials | undefined; readonly application: Readonly<Record<string, string>> | undefined; readonly signal: AbortSignal },
  transport: DropboxTransport,
): Promise<string> {
  if (destination.oauth_token !== undefined) return destination.oauth_token;
  const { credentials } = access;
  if (!credentials) throw new PermanentError('auth_secret: no stored credentials were handed over to read it', { code: 'InvalidSecret' });
  const grant = await refreshGrant(destination.auth_secret ?? '', credentials, access.application);
  const key = createHash('sha256').update(`${grant.appKey}\n${grant.refreshToken}`).digest('hex');
  const cached = mintedTokens.get(key);
  if (cached && cached.expiresAt - Date.now() > reuseMarginMilliseconds) return cached.accessToken;
  const minted = await mint(grant, credentials, transport, access.signal);
  mintedTokens.delete(key);
  if (mintedTokens.size >= maxCachedTokens) mintedTokens.delete(mintedTokens.keys().next().value ?? '');
  mintedTokens.set(key, minted);
  return minted.accessToken;
}
