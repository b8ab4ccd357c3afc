import { dropboxHosts } from '../../../functions/destinations/dropbox/endpoints.ts';
import { googleEndpoints } from '../../../functions/destinations/youtube/endpoints.ts';
import type { OAuthProvider } from './consent-flow.ts';

/**
 * The providers `npm run authorize` knows, by destination type. Adding one is an entry here: its
 * consent page, token endpoint, scopes and the parameters that make it hand out a refresh token.
 */
export const oauthProviders: Readonly<Record<string, OAuthProvider>> = {
  youtube: {
    type: 'youtube',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: googleEndpoints.tokenUrl,
    // Upload, and manage the channel's playlists (playlistid).
    scopes: ['https://www.googleapis.com/auth/youtube.upload', 'https://www.googleapis.com/auth/youtube'],
    // offline: a refresh token; consent: a new one even when this client was authorized before.
    authorizeParameters: { access_type: 'offline', prompt: 'consent' },
    noRefreshTokenAdvice: 'remove the app at https://myaccount.google.com/permissions and authorize again',
  },
  dropbox: {
    type: 'dropbox',
    authorizeUrl: 'https://www.dropbox.com/oauth2/authorize',
    tokenUrl: `${dropboxHosts.api}/oauth2/token`,
    // Write files, read their metadata (to recover from a lost answer), create shared links.
    scopes: ['files.content.write', 'files.metadata.read', 'sharing.write'],
    authorizeParameters: { token_access_type: 'offline' },
    noRefreshTokenAdvice: 'authorize again: Dropbox gives a refresh token only with token_access_type=offline',
    clientFields: { id: 'app_key', secret: 'app_secret' },
    // Dropbox matches redirect URIs exactly, port included: the app lists this one in its App Console.
    redirect: { host: 'localhost', port: 53682, path: '/dropbox' },
  },
};
