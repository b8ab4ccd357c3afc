import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConsentFlow, type OAuthProvider } from '../../infra/cli/oauth/consent-flow.ts';
import { oauthProviders } from '../../infra/cli/oauth/providers.ts';
import { type DropboxFake, startDropboxFake } from '../fakes/dropbox.ts';
import { testApp } from '../support/dropbox.ts';

// Dropbox's consent page cannot run here: the test stands in for the browser and follows the
// redirect the page would make, with a code the fake was told of.
const client = { clientId: testApp.app_key, clientSecret: testApp.app_secret };
let fake: DropboxFake;
let provider: OAuthProvider;

beforeEach(async () => {
  fake = await startDropboxFake({ clients: [{ clientId: testApp.app_key, clientSecret: testApp.app_secret }] });
  // A free port instead of Dropbox's fixed one, so parallel test files do not collide.
  provider = { ...oauthProviders.dropbox!, tokenUrl: `${fake.url}/oauth2/token`, redirect: { ...oauthProviders.dropbox!.redirect!, port: 0 } };
});

afterEach(async () => {
  await fake.close();
});

function consentingBrowser(seen: URL[]) {
  return async (href: string): Promise<void> => {
    const url = new URL(href);
    seen.push(url);
    const query = url.searchParams;
    fake.tokens.grantAuthorizationCode('dropbox-code', {
      clientId: query.get('client_id') ?? '',
      redirectUri: query.get('redirect_uri') ?? '',
      codeChallenge: query.get('code_challenge') ?? '',
      scopes: (query.get('scope') ?? '').split(' '),
    });
    const redirect = new URL(query.get('redirect_uri') ?? '');
    redirect.searchParams.set('code', 'dropbox-code');
    redirect.searchParams.set('state', query.get('state') ?? '');
    await fetch(redirect);
  };
}

describe('npm run authorize -- dropbox', () => {
  it('asks Dropbox for offline access with the scopes a delivery needs, on its fixed redirect path, and gets a refresh token', async () => {
    const seen: URL[] = [];

    const granted = await runConsentFlow({ provider, client, open: consentingBrowser(seen) });

    const query = seen[0]!.searchParams;
    expect(`${seen[0]!.origin}${seen[0]!.pathname}`).toBe('https://www.dropbox.com/oauth2/authorize');
    expect(Object.fromEntries(query)).toMatchObject({
      client_id: testApp.app_key,
      response_type: 'code',
      token_access_type: 'offline',
      scope: 'files.content.write files.metadata.read sharing.write',
      code_challenge_method: 'S256',
    });
    expect(query.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/dropbox$/);
    expect(granted.refreshToken).toBeTruthy();
    expect(oauthProviders.dropbox!.redirect).toEqual({ host: 'localhost', port: 53682, path: '/dropbox' });
  });

  it('fails, saying so, when the app secret is wrong', async () => {
    await expect(runConsentFlow({ provider, client: { ...client, clientSecret: 'nope' }, open: consentingBrowser([]) })).rejects.toThrow(/refused the code: HTTP 40\d invalid_client/);
  });
});
