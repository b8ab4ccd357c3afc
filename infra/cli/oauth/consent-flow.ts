import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A provider whose consent flow gives a refresh token for an `auth_secret`: where its consent page
 * and token endpoint are, what to ask for, and how it is told to hand out a refresh token.
 */
export interface OAuthProvider {
  /** The destination type the token is for (`npm run authorize -- <type> <name>`). */
  readonly type: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly scopes: readonly string[];
  /** Extra parameters of the authorization request (Google: `access_type=offline`, `prompt=consent`). */
  readonly authorizeParameters: Readonly<Record<string, string>>;
  /** What to do when the answer holds no refresh token. */
  readonly noRefreshTokenAdvice: string;
  /** The names of the client's id and secret in the application secret. @default client_id, client_secret */
  readonly clientFields?: { readonly id: string; readonly secret: string };
  /**
   * A redirect URI the provider must know in advance (Dropbox matches it exactly, port included).
   * @default `http://127.0.0.1:<any free port>/callback` (Google accepts any loopback port)
   */
  readonly redirect?: { readonly host: string; readonly port: number; readonly path: string };
}

/** The deployment's OAuth client (its application secret). */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface ConsentFlowOptions {
  readonly provider: OAuthProvider;
  readonly client: OAuthClient;
  /** The loopback port the consent page redirects to, when the provider fixes none; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Shows the consent page to the operator: opens a browser, or prints the URL. */
  readonly open: (url: string) => void | Promise<void>;
  /** @default 5 minutes */
  readonly timeoutMs?: number;
}

/** What the consent gave: the refresh token to store, and the scopes granted. */
export interface GrantedTokens {
  readonly refreshToken: string;
  readonly scope: string | undefined;
}

interface TokenAnswer {
  readonly refresh_token?: string;
  readonly scope?: string;
  readonly error?: string;
  readonly error_description?: string;
}

/**
 * Exchanges the authorization code at the token endpoint (RFC 6749 §4.1.3, with the PKCE verifier)
 * for a refresh token.
 */
export async function exchangeCode(provider: OAuthProvider, client: OAuthClient, code: string, redirectUri: string, codeVerifier: string): Promise<GrantedTokens> {
  const response = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      code_verifier: codeVerifier,
    }),
  });
  const answer = (await response.json().catch(() => ({}))) as TokenAnswer;
  if (!response.ok) throw new Error(`the token endpoint refused the code: HTTP ${response.status} ${answer.error ?? ''} ${answer.error_description ?? ''}`.trim());
  if (!answer.refresh_token) throw new Error(`the token endpoint gave no refresh token: ${provider.noRefreshTokenAdvice}`);
  return { refreshToken: answer.refresh_token, scope: answer.scope };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const page = (message: string): string => `<!doctype html><meta charset="utf-8"><title>Upload Destinations</title><p>${message}</p>`;

/**
 * The OAuth consent flow of an installed application, as `rclone authorize` runs it: a one-request
 * server on a loopback port receives the redirect of the provider's consent page, whose URL the
 * operator opens; the code it carries (checked against the flow's `state`, bound to it by PKCE)
 * is exchanged for a refresh token. Nothing leaves the operator's machine but the exchange.
 */
export async function runConsentFlow(options: ConsentFlowOptions): Promise<GrantedTokens> {
  const { provider, client } = options;
  const redirect = provider.redirect ?? { host: '127.0.0.1', port: options.port ?? 0, path: '/callback' };
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  const codeArrived = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  // The answer may come while the browser is still being opened: it is awaited just after.
  codeArrived.catch(() => undefined);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== redirect.path) return void response.writeHead(404).end();
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (url.searchParams.get('state') !== state) {
      // Not the redirect of this flow's consent page: ignored, the flow keeps waiting.
      return void response.writeHead(400, { 'content-type': 'text/html' }).end(page('This answer does not belong to the running authorization.'));
    }
    if (error || !code) {
      response.writeHead(400, { 'content-type': 'text/html' }).end(page(`Authorization failed: ${error ?? 'no code'}.`));
      return settle?.reject(new Error(`the consent page answered ${error ?? 'without a code'}`));
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end(page('Authorized. You can close this window.'));
    settle?.resolve(code);
  });
  const timeout = setTimeout(() => settle?.reject(new Error('no answer from the consent page in time')), options.timeoutMs ?? 300_000);
  try {
    const port = await listen(server, redirect.port);
    const redirectUri = `http://${redirect.host}:${port}${redirect.path}`;
    const authorize = new URL(provider.authorizeUrl);
    const parameters = {
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: provider.scopes.join(' '),
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...provider.authorizeParameters,
    };
    for (const [name, value] of Object.entries(parameters)) authorize.searchParams.set(name, value);
    await options.open(authorize.href);
    const code = await codeArrived;
    return await exchangeCode(provider, client, code, redirectUri, verifier);
  } finally {
    clearTimeout(timeout);
    server.close();
    server.closeAllConnections();
  }
}
