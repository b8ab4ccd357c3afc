import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConsentFlow, type OAuthProvider } from '../../infra/cli/oauth/consent-flow.ts';
import { localCredentialStore, secretsManagerCredentialStore } from '../../infra/cli/oauth/credential-stores.ts';
import { oauthProviders } from '../../infra/cli/oauth/providers.ts';
import { startYouTubeFake, youtubeScopes, type YouTubeFake } from '../fakes/youtube.ts';

// The consent page itself (Google's sign-in in a browser) cannot run here: a test stands in for
// the browser, checks the authorization request, and follows the redirect the page would make.
const client = { clientId: 'desktop-client.apps.googleusercontent.com', clientSecret: 'desktop-secret' };
let youtube: YouTubeFake;
let provider: OAuthProvider;

beforeEach(async () => {
  youtube = await startYouTubeFake({ clients: [{ clientId: client.clientId, clientSecret: client.clientSecret }] });
  // Google's provider, with its token endpoint on the fake; its consent page is never fetched.
  provider = { ...oauthProviders.youtube!, tokenUrl: `${youtube.url}/token` };
});

afterEach(async () => {
  await youtube.close();
});

/** A browser whose user allows access: the fake is told of the code, then the redirect is followed. */
function consentingBrowser(seen: URL[], answer: (redirect: URL) => void = () => undefined) {
  return async (href: string): Promise<void> => {
    const url = new URL(href);
    seen.push(url);
    const query = url.searchParams;
    youtube.tokens.grantAuthorizationCode('code-from-consent', {
      clientId: query.get('client_id') ?? '',
      redirectUri: query.get('redirect_uri') ?? '',
      codeChallenge: query.get('code_challenge') ?? '',
      scopes: (query.get('scope') ?? '').split(' '),
    });
    const redirect = new URL(query.get('redirect_uri') ?? '');
    redirect.searchParams.set('code', 'code-from-consent');
    redirect.searchParams.set('state', query.get('state') ?? '');
    answer(redirect);
    await fetch(redirect);
  };
}

describe('npm run authorize: the consent flow', () => {
  it("asks Google for offline access to upload and manage playlists, and exchanges the code for a refresh token the service can use", async () => {
    const seen: URL[] = [];

    const granted = await runConsentFlow({ provider, client, open: consentingBrowser(seen) });

    const query = seen[0]!.searchParams;
    expect(`${seen[0]!.origin}${seen[0]!.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(query)).toMatchObject({
      client_id: client.clientId,
      response_type: 'code',
      scope: `${youtubeScopes.upload} ${youtubeScopes.manage}`,
      access_type: 'offline',
      prompt: 'consent',
      code_challenge_method: 'S256',
    });
    expect(query.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(granted.scope).toBe(`${youtubeScopes.upload} ${youtubeScopes.manage}`);
    expect(youtube.tokens.refresh(granted.refreshToken, client.clientId, 60)).toBeDefined();
  });

  it('ignores a redirect that carries another state, and takes the real one', async () => {
    let forged = 0;
    const open = consentingBrowser([], (redirect) => {
      const other = new URL(redirect);
      other.searchParams.set('state', 'forged');
      void fetch(other).then((response) => (forged = response.status));
    });

    const granted = await runConsentFlow({ provider, client, open });

    expect(granted.refreshToken).toMatch(/^refresh-/);
    expect(forged).toBe(400);
  });

  it('fails when the user denies access', async () => {
    const open = async (href: string): Promise<void> => {
      const query = new URL(href).searchParams;
      await fetch(`${query.get('redirect_uri')}?error=access_denied&state=${query.get('state')}`);
    };

    await expect(runConsentFlow({ provider, client, open })).rejects.toThrow('the consent page answered access_denied');
  });

  it('fails when the token endpoint refuses the client, saying so', async () => {
    await expect(runConsentFlow({ provider, client: { ...client, clientSecret: 'wrong' }, open: consentingBrowser([]) })).rejects.toThrow(/refused the code: HTTP 401 invalid_client/);
  });
});

describe('npm run authorize: where the refresh token is stored', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ud-authorize-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes credentials/<name> into the local secrets file, keeping what else it holds, readable by its owner only', async () => {
    const file = join(directory, 'secrets.json');
    await writeFile(file, JSON.stringify({ 'application/youtube': { client_id: 'id', client_secret: 'secret' }, 'credentials/local-s3': { aws_access_key_id: 'a' } }));
    const store = localCredentialStore(file);

    const client = await store.readClient('youtube');
    const where = await store.writeCredentials('studio', { refresh_token: 'refresh-1' });

    expect(client).toEqual({ clientId: 'id', clientSecret: 'secret' });
    expect(where).toContain('"credentials/studio"');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ 'credentials/studio': { refresh_token: 'refresh-1' }, 'credentials/local-s3': { aws_access_key_id: 'a' } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('fails, saying where to store it, when the OAuth client is missing', async () => {
    await expect(localCredentialStore(join(directory, 'secrets.json')).readClient('youtube')).rejects.toThrow(/no OAuth client in .*"application\/youtube".*--client-id/);
  });

  it('writes to Secrets Manager under the deployment prefix, creating the secret the first time', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ client_id: 'id', client_secret: 'secret' }) });
    secrets.on(PutSecretValueCommand).rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: {} })).resolves({});
    secrets.on(CreateSecretCommand).resolves({});
    const store = secretsManagerCredentialStore(new SecretsManagerClient({ region: 'us-east-1' }), 'upload-destinations/');

    const client = await store.readClient('youtube');
    await store.writeCredentials('studio', { refresh_token: 'refresh-1' });
    await store.writeCredentials('studio', { refresh_token: 'refresh-2' });

    expect(client).toEqual({ clientId: 'id', clientSecret: 'secret' });
    expect(secrets.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'upload-destinations/application/youtube' });
    expect(secrets.commandCalls(CreateSecretCommand).map((call) => call.args[0].input)).toEqual([
      { Name: 'upload-destinations/credentials/studio', SecretString: '{"refresh_token":"refresh-1"}' },
    ]);
    expect(secrets.commandCalls(PutSecretValueCommand).at(-1)!.args[0].input).toEqual({ SecretId: 'upload-destinations/credentials/studio', SecretString: '{"refresh_token":"refresh-2"}' });
    secrets.restore();
  });
});
