import { discardAnswer } from '../../../shared/destination/index.ts';
import { googleApiError, googleRequest, type GoogleConnection } from './google-http.ts';
import type { AccessTokens } from './oauth.ts';
import type { YouTubeDestinationFields } from './schema.ts';

/** The parts of the `video` resource the upload reads back. */
export interface VideoResource {
  readonly id: string;
  readonly snippet?: { readonly channelId?: string };
  readonly status?: { readonly privacyStatus?: string };
}

/** Where a resumable upload stands: finished (with its video), or holding its first `committed` bytes. */
export type SessionPosition = { readonly kind: 'complete'; readonly video: VideoResource } | { readonly kind: 'incomplete'; readonly committed: number };

/** Google keeps resumable uploads in units of 256 KiB: every chunk but the last is a multiple of it. */
export const chunkGranularity = 256 * 1024;

/** The `video` resource a `videos.insert` sends: snippet and status from the destination's fields. */
export function videoMetadata(destination: YouTubeDestinationFields): Record<string, unknown> {
  return {
    snippet: {
      title: destination.title,
      description: destination.description,
      categoryId: destination.category,
      ...(destination.tags === undefined ? {} : { tags: destination.tags }),
    },
    status: { privacyStatus: destination.status },
  };
}

/**
 * Starts a resumable `videos.insert` with the video's metadata and answers the session URI (the
 * `Location` header). Nothing is on the channel until the session has received every byte.
 */
export async function startUploadSession(
  connection: GoogleConnection,
  apiUrl: string,
  tokens: AccessTokens,
  destination: YouTubeDestinationFields,
  size: number | undefined,
): Promise<string> {
  const query = new URLSearchParams({ uploadType: 'resumable', part: 'snippet,status', notifySubscribers: String(destination.notifySubscribers) });
  const response = await tokens.use(async (accessToken) => {
    const answer = await googleRequest(connection, `${apiUrl}/upload/youtube/v3/videos?${query}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json; charset=UTF-8',
        'x-upload-content-type': destination.mimetype,
        ...(size === undefined ? {} : { 'x-upload-content-length': String(size) }),
      },
      body: JSON.stringify(videoMetadata(destination)),
    });
    if (!answer.ok) throw await googleApiError('videos.insert', answer);
    return answer;
  });
  await discardAnswer(response);
  const location = response.headers.get('location');
  if (!location) throw new Error('YouTube videos.insert answered without a session URI (Location)');
  return location;
}

/** `Range: bytes=0-N` of a `308 Resume Incomplete`: N + 1 bytes are kept; none without the header. */
function committedOf(range: string | null): number {
  const match = /^bytes=0-(\d+)$/.exec(range?.trim() ?? '');
  return match?.[1] === undefined ? 0 : Number(match[1]) + 1;
}

/**
 * One resumable upload session: its URI (the capability to write into the upload), the file's
 * size when known, and the delivery's access tokens (sent with every request, as the API asks).
 */
export class ResumableSession {
  public constructor(
    private readonly connection: GoogleConnection,
    public readonly uri: string,
    /** The file's size; undefined while unknown (its last chunk states it). */
    private readonly size: number | undefined,
    private readonly tokens: AccessTokens,
  ) {}

  /** Asks where the upload stands (`Content-Range: bytes *\/TOTAL`); with the total known and all bytes there, this completes it. */
  public async query(total: number | undefined = this.size): Promise<SessionPosition> {
    return this.put(Buffer.alloc(0), `bytes */${total ?? '*'}`);
  }

  /** Sends `bytes` at `offset`; `total` is the file's size (required with its last chunk). */
  public async send(bytes: Uint8Array, offset: number, total: number | undefined = this.size): Promise<SessionPosition> {
    return this.put(bytes, `bytes ${offset}-${offset + bytes.length - 1}/${total ?? '*'}`);
  }

  private async put(bytes: Uint8Array, contentRange: string): Promise<SessionPosition> {
    const response = await googleRequest(this.connection, this.uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await this.tokens.current()}`, 'content-range': contentRange },
      body: bytes,
    });
    if (response.status === 200 || response.status === 201) return { kind: 'complete', video: (await response.json()) as VideoResource };
    if (response.status === 308) {
      await discardAnswer(response);
      return { kind: 'incomplete', committed: committedOf(response.headers.get('range')) };
    }
    throw await googleApiError('upload', response);
  }
}

/**
 * Cancels an unfinished upload (Google's upload service answers 499), so its bytes are not kept
 * until the session expires. Best effort: whatever the answer, nothing partial is ever on the channel.
 */
export async function cancelUploadSession(connection: GoogleConnection, uri: string): Promise<void> {
  const response = await googleRequest(connection, uri, { method: 'DELETE' });
  await discardAnswer(response);
}
