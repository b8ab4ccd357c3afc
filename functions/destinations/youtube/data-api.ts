import { googleJson, type GoogleConnection } from './google-http.ts';
import type { AccessTokens } from './oauth.ts';
import type { VideoResource } from './resumable.ts';

/**
 * The two Data API calls besides the upload, as small JSON requests over the guarded network
 * (the Google client library would add 0.4 MiB and some 30 ms of cold start for them).
 */
export class YouTubeDataApi {
  public constructor(
    private readonly connection: GoogleConnection,
    private readonly apiUrl: string,
    private readonly tokens: AccessTokens,
  ) {}

  /** `videos.list`: the video with this ID on the token's channel, or undefined when there is none. */
  public async video(id: string): Promise<VideoResource | undefined> {
    const query = new URLSearchParams({ id, part: 'snippet,status' });
    const answer = await googleJson<{ items?: VideoResource[] }>(this.connection, 'videos.list', `${this.apiUrl}/youtube/v3/videos?${query}`, this.tokens);
    return answer.items?.find((item) => item.id === id);
  }

  /** `playlistItems.insert`: appends the video to the playlist. */
  public async addToPlaylist(playlistId: string, videoId: string): Promise<void> {
    await googleJson(this.connection, 'playlistItems.insert', `${this.apiUrl}/youtube/v3/playlistItems?part=snippet`, this.tokens, {
      method: 'POST',
      body: { snippet: { playlistId, resourceId: { kind: 'youtube#video', videoId } } },
    });
  }
}
