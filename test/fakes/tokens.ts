import { createHash, randomBytes } from 'node:crypto';

/** An access token a fake accepts, and what it may do. */
export interface AccessGrant {
  readonly token: string;
  /** OAuth scopes (Google, Dropbox) or permissions (Meta). */
  readonly scopes: ReadonlySet<string>;
  /** Whom the token acts for: a channel, a Page or user ID, a Dropbox account. */
  readonly subject: string;
  /** Milliseconds since the epoch; `Infinity` never expires. */
  expiresAt: number;
  revoked: boolean;
}

/** A refresh token, exchanged at the fake's token endpoint for new access tokens. */
export interface RefreshGrant {
  readonly token: string;
  readonly scopes: readonly string[];
  readonly subject: string;
  /** The OAuth client it was issued to; any client may use it when undefined. */
  readonly clientId: string | undefined;
  /** When true, each exchange issues a new refresh token and this one stops working. */
  readonly rotate: boolean;
  revoked: boolean;
}

export interface AccessGrantOptions {
  readonly scopes?: readonly string[];
  /** @default the fake's default subject */
  readonly subject?: string;
  /** @default never expires */
  readonly expiresInSeconds?: number;
}

export interface RefreshGrantOptions {
  readonly scopes?: readonly string[];
  readonly subject?: string;
  readonly clientId?: string;
  /** @default false */
  readonly rotate?: boolean;
}

/** An authorization code the consent page would have handed to the client's redirect URI. */
export interface CodeGrantOptions {
  readonly clientId: string;
  /** The redirect URI the authorization request named; the exchange must name the same. */
  readonly redirectUri: string;
  readonly scopes?: readonly string[];
  readonly subject?: string;
  /** PKCE (RFC 7636, S256): the challenge the authorization request carried. */
  readonly codeChallenge?: string;
  /** Whether the refresh token it yields is rotated on use. @default false */
  readonly rotate?: boolean;
}

interface CodeGrant extends CodeGrantOptions {
  used: boolean;
}

/** What a request needs from its token: any one of `anyOf`, and all of `allOf`. */
export interface ScopeRequirement {
  readonly anyOf?: readonly string[];
  readonly allOf?: readonly string[];
}

export type TokenCheck =
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'unknown'; readonly token: string }
  | { readonly outcome: 'expired'; readonly grant: AccessGrant }
  | { readonly outcome: 'insufficient'; readonly grant: AccessGrant; readonly missing: readonly string[] }
  | { readonly outcome: 'granted'; readonly grant: AccessGrant };

/** The tokens one exchange at the token endpoint issued. */
export interface IssuedTokens {
  readonly accessToken: string;
  /** Set when the refresh token was rotated. */
  readonly refreshToken: string | undefined;
  readonly grant: AccessGrant;
}

/** The access and refresh tokens a fake knows, registered by tests and issued by its token endpoint. */
export class TokenRegistry {
  readonly #access = new Map<string, AccessGrant>();
  readonly #refresh = new Map<string, RefreshGrant>();
  readonly #codes = new Map<string, CodeGrant>();
  readonly #defaultSubject: string;
  readonly #now: () => number;

  constructor(defaultSubject: string, now: () => number = Date.now) {
    this.#defaultSubject = defaultSubject;
    this.#now = now;
  }

  /** Makes `token` a valid access token. */
  grantAccess(token: string, options: AccessGrantOptions = {}): AccessGrant {
    const grant: AccessGrant = {
      token,
      scopes: new Set(options.scopes ?? []),
      subject: options.subject ?? this.#defaultSubject,
      expiresAt: options.expiresInSeconds === undefined ? Number.POSITIVE_INFINITY : this.#now() + options.expiresInSeconds * 1000,
      revoked: false,
    };
    this.#access.set(token, grant);
    return grant;
  }

  /** Makes `token` a refresh token the token endpoint accepts. */
  grantRefresh(token: string, options: RefreshGrantOptions = {}): RefreshGrant {
    const grant: RefreshGrant = {
      token,
      scopes: options.scopes ?? [],
      subject: options.subject ?? this.#defaultSubject,
      clientId: options.clientId,
      rotate: options.rotate ?? false,
      revoked: false,
    };
    this.#refresh.set(token, grant);
    return grant;
  }

  /** Makes `code` an authorization code the token endpoint exchanges once (as a user's consent would). */
  grantAuthorizationCode(code: string, options: CodeGrantOptions): void {
    this.#codes.set(code, { ...options, used: false });
  }

  /**
   * Exchanges an authorization code for an access token living `lifetimeSeconds` and a refresh
   * token (RFC 6749 §4.1.3, with PKCE's S256 check when the code was granted with a challenge).
   * Undefined when the code is unknown or used, was issued to another client or redirect URI, or
   * the verifier does not match: the token endpoint's `invalid_grant`.
   */
  exchangeCode(code: string, request: { clientId: string; redirectUri: string; codeVerifier: string | undefined }, lifetimeSeconds: number): (IssuedTokens & { refreshToken: string }) | undefined {
    const grant = this.#codes.get(code);
    if (!grant || grant.used || grant.clientId !== request.clientId || grant.redirectUri !== request.redirectUri) return undefined;
    if (grant.codeChallenge !== undefined && createHash('sha256').update(request.codeVerifier ?? '').digest('base64url') !== grant.codeChallenge) return undefined;
    grant.used = true;
    const scopes = grant.scopes ?? [];
    const subject = grant.subject ?? this.#defaultSubject;
    const accessToken = `access-${randomBytes(12).toString('hex')}`;
    const refreshToken = `refresh-${randomBytes(12).toString('hex')}`;
    const access = this.grantAccess(accessToken, { scopes, subject, expiresInSeconds: lifetimeSeconds });
    this.grantRefresh(refreshToken, { scopes, subject, clientId: grant.clientId, rotate: grant.rotate ?? false });
    return { accessToken, refreshToken, grant: access };
  }

  /** Makes an access token expired, as if its lifetime ran out. */
  expire(accessToken: string): void {
    const grant = this.#access.get(accessToken);
    if (grant) grant.expiresAt = 0;
  }

  /** Revokes an access or refresh token: an access token then reads as unknown, a refresh token as an invalid grant. */
  revoke(token: string): void {
    const grant = this.#access.get(token) ?? this.#refresh.get(token);
    if (grant) grant.revoked = true;
  }

  /** Judges the token a request carried (undefined when it carried none). */
  check(token: string | undefined, requirement: ScopeRequirement = {}): TokenCheck {
    if (token === undefined || token === '') return { outcome: 'missing' };
    const grant = this.#access.get(token);
    if (!grant || grant.revoked) return { outcome: 'unknown', token };
    if (grant.expiresAt <= this.#now()) return { outcome: 'expired', grant };
    const missing = (requirement.allOf ?? []).filter((scope) => !grant.scopes.has(scope));
    const anyOf = requirement.anyOf ?? [];
    if (anyOf.length > 0 && !anyOf.some((scope) => grant.scopes.has(scope))) missing.push(...anyOf);
    return missing.length > 0 ? { outcome: 'insufficient', grant, missing } : { outcome: 'granted', grant };
  }

  /**
   * Exchanges a refresh token for a new access token living `lifetimeSeconds`, rotating the refresh
   * token when its grant says so. Undefined when the refresh token is unknown, revoked, or was
   * issued to another client: the token endpoint's `invalid_grant`.
   */
  refresh(refreshToken: string, clientId: string, lifetimeSeconds: number): IssuedTokens | undefined {
    const grant = this.#refresh.get(refreshToken);
    if (!grant || grant.revoked || (grant.clientId !== undefined && grant.clientId !== clientId)) return undefined;
    const accessToken = `access-${randomBytes(12).toString('hex')}`;
    const access = this.grantAccess(accessToken, { scopes: grant.scopes, subject: grant.subject, expiresInSeconds: lifetimeSeconds });
    if (!grant.rotate) return { accessToken, refreshToken: undefined, grant: access };
    grant.revoked = true;
    const rotated = `refresh-${randomBytes(12).toString('hex')}`;
    this.grantRefresh(rotated, { scopes: grant.scopes, subject: grant.subject, clientId: grant.clientId, rotate: true });
    return { accessToken, refreshToken: rotated, grant: access };
  }
}

/** The token of an `Authorization: <scheme> <token>` header, for any of `schemes` (case-insensitive). */
export function tokenFromAuthorization(header: string | undefined, schemes: readonly string[]): string | undefined {
  if (!header) return undefined;
  const [scheme = '', token = ''] = header.trim().split(/\s+/, 2);
  return schemes.some((candidate) => candidate.toLowerCase() === scheme.toLowerCase()) ? token : undefined;
}
