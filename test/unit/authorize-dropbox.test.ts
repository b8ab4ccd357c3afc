import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropboxAuthorizeUrl, DropboxAuthorizationError, dropboxRedirectUri, exchangeDropboxCode, newProofKey } from '../../infra/cli/authorize/dropbox.ts';
import { type DropboxFake, dropboxScopes, startDropboxFake } from '../fakes/dropbox.ts';
import { testApp } from '../support/dropbox.ts';

let fake: DropboxFake;

beforeEach(async () => {
  fake = await startDropboxFake({ clients: [{ clientId: testApp.app_key, clientSecret: testApp.app_secret }] });
});

afterEach(async () => {
  await fake.close();
});

describe('Dropbox authorization (the consent command)', () => {
  it('builds the consent URL: offline access, the scopes a delivery needs, state and a PKCE challenge', () => {
    const proof = newProofKey();

    const url = new URL(dropboxAuthorizeUrl({ appKey: 'key-1', state: 'state-1', challenge: proof.challenge }));

    expect(url.origin + url.pathname).toBe('https://www.dropbox.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'key-1',
      response_type: 'code',
      token_access_type: 'offline',
      redirect_uri: dropboxRedirectUri,
      scope: 'files.content.write files.metadata.read sharing.write',
      state: 'state-1',
      code_challenge: proof.challenge,
      code_challenge_method: 'S256',
    });
    expect(proof.challenge).toBe(createHash('sha256').update(proof.verifier).digest('base64url'));
  });

  it('exchanges the code for a refresh token that then mints access tokens', async () => {
    const proof = newProofKey();
    fake.tokens.grantAuthorizationCode('code-1', { clientId: testApp.app_key, redirectUri: dropboxRedirectUri, codeChallenge: proof.challenge, scopes: Object.values(dropboxScopes) });

    const grant = await exchangeDropboxCode({ app: testApp, code: 'code-1', verifier: proof.verifier, api: fake.url });
    const minted = await fetch(`${fake.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken, client_id: testApp.app_key, client_secret: testApp.app_secret }),
    });

    expect(grant.scopes).toEqual(expect.arrayContaining(['files.content.write', 'sharing.write']));
    expect(minted.status).toBe(200);
    const exchange = fake.requests.find((request) => request.endpoint === 'oauth2/token');
    expect(exchange?.headers.authorization).toMatch(/^Basic /);
    expect(exchange?.query.toString()).toBe('');
  });

  it('fails with invalid_grant when the verifier does not match the challenge, or the code was used', async () => {
    const proof = newProofKey();
    fake.tokens.grantAuthorizationCode('code-2', { clientId: testApp.app_key, redirectUri: dropboxRedirectUri, codeChallenge: proof.challenge });

    const wrong = await exchangeDropboxCode({ app: testApp, code: 'code-2', verifier: newProofKey().verifier, api: fake.url }).catch((error: unknown) => error);
    await exchangeDropboxCode({ app: testApp, code: 'code-2', verifier: proof.verifier, api: fake.url });
    const reused = await exchangeDropboxCode({ app: testApp, code: 'code-2', verifier: proof.verifier, api: fake.url }).catch((error: unknown) => error);

    expect(wrong).toBeInstanceOf(DropboxAuthorizationError);
    expect(wrong).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(reused).toMatchObject({ error: 'invalid_grant' });
  });

  it('fails with invalid_client when the app secret is wrong', async () => {
    const error = await exchangeDropboxCode({ app: { ...testApp, app_secret: 'nope' }, code: 'any', verifier: 'v', api: fake.url }).catch((thrown: unknown) => thrown);

    expect(error).toMatchObject({ error: 'invalid_client' });
  });
});
