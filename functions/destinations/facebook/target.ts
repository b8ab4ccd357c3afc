import { PermanentError } from '../../../shared/destination/index.ts';
import type { GraphClient } from './graph-client.ts';
import type { FacebookDestinationFields } from './schema.ts';

/**
 * Where the video goes and how its bytes get there, decided by the kind of token given:
 * - a Page access token publishes on its own Page, and its bytes go up through the Page's
 *   `upload_phase` flow (the Resumable Upload API opens sessions for users and system users only);
 * - a user or system-user token needs `page_id`: it asks the Page for a Page token to publish
 *   with, and uploads the bytes through the Resumable Upload API on the token's app.
 */
export type PublishTarget =
  | { readonly flow: 'upload-phase'; readonly pageId: string; readonly pageToken: string }
  | { readonly flow: 'resumable'; readonly pageId: string; readonly pageToken: string; readonly uploaderToken: string };

interface Profile {
  readonly id: string;
  readonly name?: string;
  readonly metadata?: { readonly type?: string };
}

/** The token the destination carries (inline or from its stored credentials). */
export function accessTokenOf(destination: FacebookDestinationFields): string {
  if (destination.oauth_access_token === undefined) {
    throw new PermanentError('oauth_access_token: no token was given, and the stored credentials hold none', { code: 'TokenMissing' });
  }
  return destination.oauth_access_token;
}

/**
 * Asks Graph who the token is (`/me` with `metadata=1` tells a Page from a person) and works out
 * the target. Personal profiles are refused up front: Meta removed publishing on them from the
 * API in 2018, so nothing is uploaded for a video that could never be published.
 */
export async function resolveTarget(graph: GraphClient, destination: FacebookDestinationFields): Promise<PublishTarget> {
  const token = accessTokenOf(destination);
  const me = await graph.get<Profile>('me', token, { fields: 'id,name', metadata: '1' });
  const who = me.name === undefined ? me.id : `'${me.name}' (${me.id})`;
  if (me.metadata?.type === 'page') {
    if (destination.page_id !== undefined && destination.page_id !== me.id) {
      throw new PermanentError(
        `page_id: the token is a Page access token of ${who}, which cannot publish on Page ${destination.page_id}: leave page_id out, or give a token of that Page`,
        { code: 'PageTokenMismatch' },
      );
    }
    return { flow: 'upload-phase', pageId: me.id, pageToken: token };
  }
  if (destination.page_id === undefined) {
    throw new PermanentError(
      `page_id: the token belongs to ${who}, a person or system user, not a Page, and Meta no longer lets apps publish videos on personal profiles ` +
        '(removed with publish_actions in 2018): give page_id of a Page they manage, or use a Page access token',
      { code: 'ProfileNotSupported' },
    );
  }
  const page = await graph.get<{ readonly id: string; readonly access_token?: string }>(destination.page_id, token, { fields: 'access_token' });
  if (page.access_token === undefined) {
    throw new PermanentError(
      `page_id: Facebook gave ${who} no token for Page ${destination.page_id}: they need a role on the Page that can create content, and the token pages_show_list`,
      { code: 'PageTokenUnavailable' },
    );
  }
  return { flow: 'resumable', pageId: destination.page_id, pageToken: page.access_token, uploaderToken: token };
}
