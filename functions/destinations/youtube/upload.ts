import { PermanentError, type ResumeSlot, type UploadContext, type Uploader, type UploadResult } from '../../../shared/destination/index.ts';
import { YouTubeDataApi } from './data-api.ts';
import { googleEndpointsFrom, type GoogleEndpoints } from './endpoints.ts';
import { classifyYouTubeError, GoogleApiError, isSessionGone } from './errors.ts';
import type { GoogleConnection } from './google-http.ts';
import { accessTokensFor, type AccessTokens } from './oauth.ts';
import { cancelUploadSession, ResumableSession, startUploadSession, type VideoResource } from './resumable.ts';
import type { YouTubeDestinationFields } from './schema.ts';
import { defaultTransferSettings, transferSource, type Checkpoint, type TransferSettings } from './transfer.ts';

/**
 * What a later attempt needs to continue: the session URI (a capability: stored sealed), a
 * checkpoint of the bytes confirmed, whether the byte that may complete the video was ever sent,
 * and, once known, the video and whether it was added to the playlist.
 */
export interface YouTubeResumeState {
  readonly sessionUri: string;
  /** Bytes YouTube confirmed and their CRC-32: where the next attempt reads the source from. */
  readonly checkpoint?: Checkpoint;
  readonly finalSent?: boolean;
  readonly videoId?: string;
  readonly playlisted?: boolean;
}

type Context = UploadContext<YouTubeDestinationFields, YouTubeResumeState>;

/** The watch page of a video: what the delivery answers as its URL. */
export function watchUrl(videoId: string): string {
  return `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}`;
}

/** The video uploaded, as far as this attempt knows it. */
interface Uploaded {
  readonly video: VideoResource;
  /** Bytes the session already held when this attempt began. */
  readonly resumedAt: number;
}

/** The resume slot with the latest state this attempt saved. */
class SavedState {
  public constructor(
    private readonly slot: ResumeSlot<YouTubeResumeState>,
    public current: YouTubeResumeState | undefined,
  ) {}

  public async save(change: YouTubeResumeState | Partial<YouTubeResumeState>): Promise<void> {
    this.current = { ...this.current, ...change } as YouTubeResumeState;
    await this.slot.save(this.current);
  }
}

/**
 * Delivers to YouTube, configured with where Google's endpoints are and how to cut the file.
 * Uploads with the resumable protocol driven here (over the guarded network), continuing an
 * earlier attempt's session from what it holds; never makes a second video for one delivery.
 */
export function youtubeUploader(endpoints: GoogleEndpoints, settings: TransferSettings = defaultTransferSettings): Uploader<YouTubeDestinationFields, YouTubeResumeState> {
  /** The earlier attempt's video, checked with `videos.list` when the token may read (upload-only tokens may not). */
  async function earlierVideo(api: YouTubeDataApi, videoId: string): Promise<VideoResource> {
    try {
      const video = await api.video(videoId);
      if (video) return video;
    } catch (error) {
      if (error instanceof GoogleApiError && error.reason === 'insufficientPermissions') return { id: videoId };
      throw error;
    }
    throw new PermanentError(`the video ${videoId} an earlier attempt uploaded is no longer on the channel (deleted?); it is not uploaded again`, {
      code: 'VideoGone',
    });
  }

  /**
   * The session to continue and from which byte, or undefined when there is none: an expired
   * session whose last byte was never sent made no video, so a new one may start; one whose last
   * byte was sent may have made one, and is never started again.
   */
  async function continuedSession(context: Context, state: SavedState, tokens: AccessTokens, connection: GoogleConnection, notes: string[]) {
    const earlier = state.current;
    if (!earlier) return undefined;
    const session = new ResumableSession(connection, earlier.sessionUri, context.source.size, tokens);
    try {
      const position = await session.query();
      return { session, position };
    } catch (error) {
      if (!isSessionGone(error)) throw error;
      if (earlier.finalSent) {
        throw new PermanentError(
          'the upload session expired after its last byte was sent, so the video may be on the channel already; ' +
            'it is not uploaded again (that could make a second video). Check the channel, and send the job again if the video is missing',
          { code: 'UploadOutcomeUnknown', cause: error },
        );
      }
      notes.push('the upload session of an earlier attempt had expired before its last byte; a new session was started');
      state.current = undefined;
      return undefined;
    }
  }

  async function uploadVideo(context: Context, state: SavedState, tokens: AccessTokens, connection: GoogleConnection, notes: string[]): Promise<Uploaded> {
    const { destination, source, signal } = context;
    const continued = await continuedSession(context, state, tokens, connection, notes);
    if (continued?.position.kind === 'complete') {
      await state.save({ videoId: continued.position.video.id });
      return { video: continued.position.video, resumedAt: source.size ?? 0 };
    }
    let session = continued?.session;
    const resumedAt = continued?.position.kind === 'incomplete' ? continued.position.committed : 0;
    if (!session) {
      const uri = await startUploadSession(connection, endpoints.apiUrl, tokens, destination, source.size);
      await state.save({ sessionUri: uri, finalSent: false });
      session = new ResumableSession(connection, uri, source.size, tokens);
    }
    const saved = state.current?.checkpoint;
    const checkpoint = saved !== undefined && saved.offset <= resumedAt ? saved : { offset: 0, crc32: 0 };
    const video = await transferSource(session, source, { committed: resumedAt, checkpoint }, settings, signal, {
      beforeLastChunk: async () => {
        if (!state.current?.finalSent) await state.save({ finalSent: true });
      },
      checkpoint: (confirmed) => state.save({ checkpoint: confirmed }),
    });
    await state.save({ videoId: video.id });
    return { video, resumedAt };
  }

  /** Adds the video to `playlistid`; a refusal (no such playlist, no scope) leaves the video delivered, with a note. */
  async function addToPlaylist(destination: YouTubeDestinationFields, api: YouTubeDataApi, state: SavedState, videoId: string, notes: string[]): Promise<void> {
    if (destination.playlistid === undefined || state.current?.playlisted) return;
    try {
      await api.addToPlaylist(destination.playlistid, videoId);
    } catch (error) {
      const classified = classifyYouTubeError(error);
      if (classified.retryable) throw error;
      notes.push(`the video was uploaded but not added to playlist ${destination.playlistid}: ${classified.message}`);
      return;
    }
    await state.save({ playlisted: true });
  }

  function result(destination: YouTubeDestinationFields, uploaded: Uploaded, notes: string[]): UploadResult {
    const { video, resumedAt } = uploaded;
    const privacy = video.status?.privacyStatus;
    if (privacy !== undefined && privacy !== destination.status) {
      notes.push(`YouTube made the video ${privacy}, not ${destination.status}: API projects YouTube has not audited may upload private videos only`);
    }
    return {
      url: watchUrl(video.id),
      details: {
        video_id: video.id,
        ...(video.snippet?.channelId === undefined ? {} : { channel_id: video.snippet.channelId }),
        ...(privacy === undefined ? {} : { privacy_status: privacy }),
        ...(resumedAt > 0 ? { resumed_at: resumedAt } : {}),
      },
      ...(notes.length > 0 ? { notes } : {}),
    };
  }

  return {
    async upload(context) {
      const { destination, network, signal } = context;
      const connection: GoogleConnection = { network, signal };
      const tokens = accessTokensFor(destination, { ...connection, credentials: context.credentials, application: context.application }, endpoints.tokenUrl);
      const api = new YouTubeDataApi(connection, endpoints.apiUrl, tokens);
      const state = new SavedState(context.resume, context.resume.state);
      const notes: string[] = [];
      const earlierId = state.current?.videoId;
      const uploaded = earlierId === undefined
        ? await uploadVideo(context, state, tokens, connection, notes)
        : { video: await earlierVideo(api, earlierId), resumedAt: context.source.size ?? 0 };
      await addToPlaylist(destination, api, state, uploaded.video.id, notes);
      return result(destination, uploaded, notes);
    },
    classify: (error) => classifyYouTubeError(error),
    async discard({ state, network, signal }) {
      // A finished video is the delivery, not a partial upload: it is never removed.
      if (state.videoId !== undefined) return;
      await cancelUploadSession({ network, signal }, state.sessionUri);
    },
  };
}

/** The uploader of the deployed function: Google's endpoints, or where the environment moves them (read once, at cold start). */
export const youtubeUploaderFromEnvironment = youtubeUploader(googleEndpointsFrom(process.env));
