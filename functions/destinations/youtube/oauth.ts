import { createHash } from 'node:crypto';
import { PermanentError, type StoredCredentials } from '../../../shared/destination/index.ts';
import { GoogleApiError, OAuthTokenError } from './errors.ts';
import { googleRequest, type GoogleConnection } from './google-http.ts';
import type { YouTubeDestinationFields } from './schema.ts';

/** Access tokens for one delivery: the caller's, or minted from the operator's stored refresh token. */
export interface AccessTokens {
  /** A token valid for at least a few minutes more (when it can be refreshed). */
  current(): Promise<string>;
  /**
   * Makes a call with the current token. A token Google refuses (401) before its expiry (revoked,
   * or a clock off) is dropped and the call made once more with a fresh one, as Google's own
   * clients do; a token that cannot be refreshed is refused for good.
   */
  use<Result>(call: (accessToken: string) => Promise<Result>): Promise<Result>;
}

/** What minting needs beyond the destination: the stored secrets, the OAuth client, the network. */
export interface TokenContext extends GoogleConnection {
  readonly credentials: StoredCredentials;
  readonly application: Readonly<Record<string, string>> | undefined;
}

/** A token this close to its expiry is refreshed rather than used. */
const expiryMarginMs = 5 * 60 * 1000;
const maxCachedTokens = 100;

/**
 * Access tokens minted by this function instance, by OAuth client and refresh token (hashed): an
 * hour's token serves every delivery of a warm function instead of a refresh per delivery.
 */
const minted = new Map<string, { readonly accessToken: string; readonly expiresAt: number }>();

function cacheKey(clientId: string, refreshToken: string): string {
  return createHash('sha256').update(`${clientId}\n${refreshToken}`).digest('hex');
}

interface TokenAnswer {
  readonly access_token?: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly error?: string;
  readonly error_description?: string;
}

/**
 * The operator's own channel: the stored secret `auth_secret` names holds a refresh token, which
 * the deployment's OAuth client (its application secret) exchanges for access tokens at Google's
 * token endpoint. A refresh token the endpoint rotates is written back to the secret at once.
 */
class RefreshedTokens implements AccessTokens {
  private refreshToken: string | undefined;

  public constructor(
    private readonly secretName: string,
    private readonly context: TokenContext,
    private readonly tokenUrl: string,
  ) {}

  public async current(): Promise<string> {
    const client = this.client();
    const refreshToken = this.refreshToken ?? (this.refreshToken = await this.storedRefreshToken());
    const cached = minted.get(cacheKey(client.clientId, refreshToken));
    if (cached && cached.expiresAt - expiryMarginMs > Date.now()) return cached.accessToken;
    return this.mint(client, refreshToken);
  }

  public async use<Result>(call: (accessToken: string) => Promise<Result>): Promise<Result> {
    const refused = await this.current();
    try {
      return await call(refused);
    } catch (error) {
      if (!(error instanceof GoogleApiError && error.status === 401)) throw error;
      // Another delivery of this warm function may have replaced it already: only the refused one goes.
      const key = cacheKey(this.client().clientId, this.refreshToken ?? '');
      if (minted.get(key)?.accessToken === refused) minted.delete(key);
      return call(await this.current());
    }
  }

  private client(): { clientId: string; clientSecret: string } {
    const clientId = this.context.application?.client_id;
    const clientSecret = this.context.application?.client_secret;
    if (!clientId || !clientSecret) {
      throw new PermanentError(
        "auth_secret needs the deployment's Google OAuth client: store {\"client_id\", \"client_secret\"} as the secret " +
          'upload-destinations/application/youtube (README: YouTube, credentials)',
        { code: 'MissingOAuthClient' },
      );
    }
    return { clientId, clientSecret };
  }

  private async storedRefreshToken(): Promise<string> {
    let stored: Readonly<Record<string, unknown>>;
    try {
      stored = await this.context.credentials.read(this.secretName);
    } catch (error) {
      if (error instanceof PermanentError && error.code === 'SecretNotFound') {
        throw new PermanentError(`auth_secret: no stored secret named '${this.secretName}'; create it with npm run authorize -- youtube ${this.secretName}`, {
          code: 'SecretNotFound',
          cause: error,
        });
      }
      throw error;
    }
    const token = stored.refresh_token;
    if (typeof token !== 'string' || token === '') {
      throw new PermanentError(`auth_secret: the stored secret '${this.secretName}' holds no refresh_token; create it with npm run authorize -- youtube ${this.secretName}`, {
        code: 'InvalidSecret',
      });
    }
    return token;
  }

  private async mint(client: { clientId: string; clientSecret: string }, refreshToken: string): Promise<string> {
    const response = await googleRequest(this.context, this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, client_secret: client.clientSecret }).toString(),
    });
    const answer = (await response.json().catch(() => ({}))) as TokenAnswer;
    if (!response.ok || typeof answer.access_token !== 'string') {
      throw new OAuthTokenError(response.status, answer.error ?? '', this.secretName, answer.error_description ?? '');
    }
    const expiresAt = Date.now() + (Number(answer.expires_in) || 3600) * 1000;
    let current = refreshToken;
    if (answer.refresh_token && answer.refresh_token !== refreshToken) {
      // The old one may stop working now: the new one is stored before anything else happens.
      await this.context.credentials.update(this.secretName, { refresh_token: answer.refresh_token });
      minted.delete(cacheKey(client.clientId, refreshToken));
      this.refreshToken = current = answer.refresh_token;
    }
    if (minted.size >= maxCachedTokens) minted.delete(minted.keys().next().value ?? '');
    minted.set(cacheKey(client.clientId, current), { accessToken: answer.access_token, expiresAt });
    return answer.access_token;
  }
}

/**
 * The access tokens of a delivery: the caller's `oauth_access_token` as given (it cannot be
 * refreshed here), or tokens minted from the refresh token stored under `auth_secret`.
 */
export function accessTokensFor(destination: YouTubeDestinationFields, context: TokenContext, tokenUrl: string): AccessTokens {
  const inline = destination.oauth_access_token;
  if (inline !== undefined) return { current: async () => inline, use: (call) => call(inline) };
  return new RefreshedTokens(destination.auth_secret ?? '', context, tokenUrl);
}
