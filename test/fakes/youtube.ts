import { join } from 'node:path';
import type { Exchange } from './exchange.ts';
import { type FakeServer, type Route, startFakeServer } from './fake-server.ts';
import { answerGoogleError, googleDialect, type GoogleProblem, refuseGoogleToken } from './google-errors.ts';
import { randomIdentifier } from './identifiers.ts';
import { answerTokenRequest, type OAuthClient } from './oauth-token-endpoint.ts';
import { StoredBytes } from './stored-bytes.ts';
import { type ScopeRequirement, tokenFromAuthorization, TokenRegistry } from './tokens.ts';
import { assignableCategoryIds, isProblem, listParameter, readVideoMetadata, type VideoMetadata, videoResource, type YouTubeChannel } from './youtube-resources.ts';

/** The OAuth scopes of the YouTube Data API. */
export const youtubeScopes = {
  upload: 'https://www.googleapis.com/auth/youtube.upload',
  manage: 'https://www.googleapis.com/auth/youtube',
  forceSsl: 'https://www.googleapis.com/auth/youtube.force-ssl',
  readonly: 'https://www.googleapis.com/auth/youtube.readonly',
  partner: 'https://www.googleapis.com/auth/youtubepartner',
} as const;

/** Google persists resumable uploads in units of 256 KiB; every chunk but the last is a multiple of it. */
export const youtubeChunkGranularity = 256 * 1024;

const scopesFor = {
  insert: { anyOf: [youtubeScopes.upload, youtubeScopes.manage, youtubeScopes.forceSsl, youtubeScopes.partner] },
  playlistInsert: { anyOf: [youtubeScopes.manage, youtubeScopes.forceSsl, youtubeScopes.partner] },
  read: { anyOf: [youtubeScopes.readonly, youtubeScopes.manage, youtubeScopes.forceSsl, youtubeScopes.partner] },
} satisfies Record<string, ScopeRequirement>;

/** Quota units each call costs, from the API's quota calculator. */
const unitCost = { list: 1, playlistItemsInsert: 50 };

export interface YouTubeFakeOptions {
  /** OAuth clients the token endpoint accepts. @default [] */
  readonly clients?: readonly OAuthClient[];
  /** @default { id: 'UCfakeChannel0000000000', title: 'Fake Channel' } */
  readonly channel?: YouTubeChannel;
  /** Playlists of the channel, by ID. @default [] */
  readonly playlists?: readonly string[];
  /** `videos.insert` calls the project may make per day before `quotaExceeded`. @default 100 */
  readonly dailyUploadQuota?: number;
  /** Videos the channel may upload per day before `uploadLimitExceeded`. @default unlimited */
  readonly channelDailyUploadLimit?: number;
  /** Quota units per day for the other calls before `quotaExceeded`. @default 10_000 */
  readonly dailyQuotaUnits?: number;
  /** Category IDs `snippet.categoryId` may take. @default the US region's assignable categories */
  readonly categoryIds?: readonly string[];
  /** An API project not yet audited: YouTube locks its uploads private. @default false */
  readonly unverifiedProject?: boolean;
  /** Lifetime of access tokens the token endpoint issues. @default 3599 */
  readonly accessTokenLifetimeSeconds?: number;
  /** Where clients reach the fake when something stands in front of it (a proxy): session URIs name it. @default the fake's own address */
  readonly publicUrl?: string;
}

/** A resumable upload session, as the fake holds it. */
export interface YouTubeUploadSession {
  readonly id: string;
  /** The session URI the initiation answered in `Location`. */
  readonly uri: string;
  readonly metadata: VideoMetadata;
  readonly parts: readonly string[];
  /** `X-Upload-Content-Length`, when the initiation sent it. */
  readonly declaredLength: number | undefined;
  /** `X-Upload-Content-Type`, when the initiation sent it. */
  readonly contentType: string | undefined;
  readonly notifySubscribers: boolean;
  readonly bytes: StoredBytes;
  /** The file's size, once a request stated it. */
  totalLength: number | undefined;
  /** Bytes kept from byte 0, always a multiple of 256 KiB until the upload completes. */
  committed: number;
  expired: boolean;
  /** Cancelled by a `DELETE` of its URI: its bytes are dropped and it answers 404 from then on. */
  cancelled: boolean;
  /** The video the session created, once complete. */
  videoId: string | undefined;
}

export interface YouTubeVideo {
  readonly id: string;
  readonly sessionId: string;
  readonly metadata: VideoMetadata;
  readonly notifySubscribers: boolean;
  readonly publishedAt: string;
  readonly bytes: StoredBytes;
}

/** The day's quota use; tests read it and force it to its limits. */
export interface YouTubeQuota {
  readonly uploadsUsed: number;
  readonly unitsUsed: number;
  readonly channelUploads: number;
  /** Uses up the project's `videos.insert` quota: the next upload answers 403 `quotaExceeded`. */
  exhaustUploads(): void;
  /** Uses up the other calls' units: the next call answers 403 `quotaExceeded`. */
  exhaustUnits(): void;
  /** Reaches the channel's upload limit: the next upload answers 400 `uploadLimitExceeded`. */
  reachChannelUploadLimit(): void;
  /** Answers the next `times` API calls (not session PUTs) 403 `rateLimitExceeded`. */
  rateLimitNext(times?: number): void;
  /** A new day (midnight Pacific time for the real service). */
  reset(): void;
}

export interface YouTubeFake extends FakeServer {
  readonly tokens: TokenRegistry;
  readonly quota: YouTubeQuota;
  readonly sessions: ReadonlyMap<string, YouTubeUploadSession>;
  readonly videos: ReadonlyMap<string, YouTubeVideo>;
  /** Video IDs per playlist, in playlist order. */
  readonly playlists: ReadonlyMap<string, readonly string[]>;
  /** Makes a session URI answer 404 from now on, as an expired session does. */
  expireSession(sessionId: string): void;
}

class Quota implements YouTubeQuota {
  uploadsUsed = 0;
  unitsUsed = 0;
  channelUploads = 0;
  rateLimited = 0;

  constructor(
    readonly uploadLimit: number,
    readonly unitLimit: number,
    readonly channelLimit: number,
  ) {}

  exhaustUploads(): void {
    this.uploadsUsed = this.uploadLimit;
  }

  exhaustUnits(): void {
    this.unitsUsed = this.unitLimit;
  }

  reachChannelUploadLimit(): void {
    this.channelUploads = this.channelLimit;
  }

  rateLimitNext(times = 1): void {
    this.rateLimited += times;
  }

  reset(): void {
    this.uploadsUsed = 0;
    this.unitsUsed = 0;
    this.channelUploads = 0;
  }

  /** The refusal for a call costing `units` (or an upload), or undefined after charging it. */
  charge(call: 'upload' | number): GoogleProblem & { code: number } | undefined {
    if (this.rateLimited > 0) {
      this.rateLimited -= 1;
      return { code: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' };
    }
    const exceeded = call === 'upload' ? this.uploadsUsed >= this.uploadLimit : this.unitsUsed + call > this.unitLimit;
    if (exceeded) {
      return { code: 403, reason: 'quotaExceeded', domain: 'youtube.quota', message: 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.' };
    }
    if (call === 'upload' && this.channelUploads >= this.channelLimit) {
      return { code: 400, reason: 'uploadLimitExceeded', domain: 'youtube.video', message: 'The user has exceeded the number of videos they may upload.' };
    }
    if (call === 'upload') this.uploadsUsed += 1;
    else this.unitsUsed += call;
    return undefined;
  }
}

/** The parsed `Content-Range` of a session PUT. */
type ContentRange =
  | { readonly kind: 'query'; readonly total: number | undefined }
  | { readonly kind: 'chunk'; readonly first: number; readonly last: number; readonly total: number | undefined }
  | { readonly kind: 'invalid' };

function parseContentRange(header: string | undefined, contentLength: number | undefined): ContentRange {
  const totalOf = (text: string): number | undefined => (text === '*' ? undefined : Number(text));
  if (header === undefined) {
    // A PUT without Content-Range sends the whole file in one request.
    if (contentLength === undefined) return { kind: 'invalid' };
    return contentLength === 0 ? { kind: 'query', total: 0 } : { kind: 'chunk', first: 0, last: contentLength - 1, total: contentLength };
  }
  const query = /^bytes \*\/(\d+|\*)$/.exec(header.trim());
  if (query?.[1]) return { kind: 'query', total: totalOf(query[1]) };
  const chunk = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!chunk?.[1] || !chunk[2] || !chunk[3]) return { kind: 'invalid' };
  const first = Number(chunk[1]);
  const last = Number(chunk[2]);
  const total = totalOf(chunk[3]);
  if (last < first || (total !== undefined && last >= total)) return { kind: 'invalid' };
  return { kind: 'chunk', first, last, total };
}

function badRequest(exchange: Exchange, message: string): void {
  answerGoogleError(exchange, 400, { reason: 'badRequest', message });
}

/**
 * Starts a fake of the YouTube Data API v3 upload surface: resumable `videos.insert` (initiation,
 * chunk PUTs, status queries), `videos.list`, `channels.list?mine=true`, `playlistItems.insert`,
 * and Google's OAuth token endpoint, with quotas, scopes and the documented error bodies.
 *
 * @example
 * const youtube = await startYouTubeFake({ clients: [{ clientId: 'id', clientSecret: 'secret' }] });
 * youtube.tokens.grantAccess('token', { scopes: [youtubeScopes.upload] });
 */
export async function startYouTubeFake(options: YouTubeFakeOptions = {}): Promise<YouTubeFake> {
  const channel = options.channel ?? { id: 'UCfakeChannel0000000000', title: 'Fake Channel' };
  const categoryIds = new Set(options.categoryIds ?? assignableCategoryIds);
  const tokens = new TokenRegistry(channel.id);
  const quota = new Quota(options.dailyUploadQuota ?? 100, options.dailyQuotaUnits ?? 10_000, options.channelDailyUploadLimit ?? Number.POSITIVE_INFINITY);
  const sessions = new Map<string, YouTubeUploadSession>();
  const videos = new Map<string, YouTubeVideo>();
  const playlists = new Map<string, string[]>((options.playlists ?? []).map((id) => [id, []]));
  const accessLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3599;
  let baseUrl = '';
  let directory = '';

  /** Checks the bearer token; false when it did not pass and the request was answered. */
  const authorized = (exchange: Exchange, scopes: ScopeRequirement): boolean =>
    !refuseGoogleToken(exchange, tokens.check(tokenFromAuthorization(exchange.header('authorization'), ['Bearer']), scopes));

  /** Charges the day's quota; false when it is used up and the request was answered. */
  const charged = (exchange: Exchange, cost: 'upload' | number): boolean => {
    const refusal = quota.charge(cost);
    if (refusal) answerGoogleError(exchange, refusal.code, refusal);
    return refusal === undefined;
  };

  const requireParts = (exchange: Exchange): string[] | undefined => {
    const parts = listParameter(exchange.url.searchParams, 'part');
    if (parts.length === 0) answerGoogleError(exchange, 400, { reason: 'required', message: 'Required parameter: part', location: 'part' });
    return parts.length === 0 ? undefined : parts;
  };

  const answerVideo = (exchange: Exchange, video: YouTubeVideo, parts: readonly string[]): void => {
    exchange.answerJson(200, videoResource(video, parts, channel), {}, 'application/json; charset=UTF-8');
  };

  const answerIncomplete = (exchange: Exchange, session: YouTubeUploadSession): void => {
    // "308 Resume Incomplete"; no Range header while nothing is kept, as Google does.
    exchange.answerEmpty(308, { 'x-guploader-uploadid': session.id, ...(session.committed > 0 ? { range: `bytes=0-${session.committed - 1}` } : {}) });
  };

  const completeVideo = (session: YouTubeUploadSession): YouTubeVideo => {
    const video: YouTubeVideo = {
      id: randomIdentifier(11),
      sessionId: session.id,
      metadata: session.metadata,
      notifySubscribers: session.notifySubscribers,
      publishedAt: new Date().toISOString(),
      bytes: session.bytes,
    };
    session.videoId = video.id;
    videos.set(video.id, video);
    quota.channelUploads += 1;
    return video;
  };

  const initiateUpload = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, scopesFor.insert)) return;
    const parts = requireParts(exchange);
    if (!parts) return;
    if (exchange.url.searchParams.get('uploadType') !== 'resumable') {
      return badRequest(exchange, 'The fake serves uploadType=resumable only.');
    }
    const body = (await exchange.readSmallBody()).toString();
    let resource: unknown = {};
    try {
      if (body.trim() !== '') resource = JSON.parse(body);
    } catch {
      return answerGoogleError(exchange, 400, { reason: 'parseError', message: 'Parse Error' });
    }
    const metadata = readVideoMetadata(resource, categoryIds, options.unverifiedProject ?? false);
    if (isProblem(metadata)) return answerGoogleError(exchange, 400, metadata);
    const declared = exchange.header('x-upload-content-length');
    if (declared !== undefined && !/^\d+$/.test(declared)) return badRequest(exchange, 'Invalid X-Upload-Content-Length header.');
    if (!charged(exchange, 'upload')) return;
    const id = randomIdentifier(32);
    const session: YouTubeUploadSession = {
      id,
      uri: `${baseUrl}/upload/youtube/v3/videos?uploadType=resumable&part=${parts.join(',')}&upload_id=${id}`,
      metadata,
      parts,
      declaredLength: declared === undefined ? undefined : Number(declared),
      contentType: exchange.header('x-upload-content-type'),
      notifySubscribers: exchange.url.searchParams.get('notifySubscribers') !== 'false',
      bytes: await StoredBytes.create(join(directory, `youtube-${id}`)),
      totalLength: declared === undefined ? undefined : Number(declared),
      committed: 0,
      expired: false,
      cancelled: false,
      videoId: undefined,
    };
    sessions.set(id, session);
    exchange.answerEmpty(200, { location: session.uri, 'x-guploader-uploadid': id });
  };

  /** The last request of each session, by upload ID: the next one starts when it has finished. */
  const sessionTails = new Map<string, Promise<void>>();

  /**
   * Google's upload service handles one session's requests one after another: a status query or
   * a resend that arrives while an earlier chunk (whose client gave up waiting) is still being
   * stored answers from what that chunk left, so no byte is kept twice.
   */
  const oneAtATime = (handle: (exchange: Exchange) => Promise<void>) => (exchange: Exchange): Promise<void> => {
    const id = exchange.url.searchParams.get('upload_id') ?? '';
    const current = (sessionTails.get(id) ?? Promise.resolve()).then(() => handle(exchange));
    sessionTails.set(id, current.catch(() => undefined));
    return current;
  };

  const receiveChunk = async (exchange: Exchange): Promise<void> => {
    const session = sessions.get(exchange.url.searchParams.get('upload_id') ?? '');
    if (!session || session.expired || session.cancelled) return answerGoogleError(exchange, 404, { reason: 'notFound', message: 'Not Found' });
    const finished = session.videoId === undefined ? undefined : videos.get(session.videoId);
    // A completed session answers every later PUT with its video, so a resent last chunk makes no second video.
    if (finished) return answerVideo(exchange, finished, session.parts);
    const range = parseContentRange(exchange.header('content-range'), exchange.contentLength);
    if (range.kind === 'invalid') return badRequest(exchange, 'Failed to parse Content-Range header.');
    if (range.total !== undefined && session.totalLength !== undefined && range.total !== session.totalLength) {
      return badRequest(exchange, `Content-Range total ${range.total} differs from the upload's size ${session.totalLength}.`);
    }
    if (range.total !== undefined && range.total < session.committed) return badRequest(exchange, 'Content-Range total is below the bytes already uploaded.');
    if (range.kind === 'query') {
      session.totalLength ??= range.total;
      if (session.totalLength === session.committed) return answerVideo(exchange, completeVideo(session), session.parts);
      return answerIncomplete(exchange, session);
    }
    const { first, last, total } = range;
    const chunkLength = last - first + 1;
    if (exchange.contentLength !== undefined && exchange.contentLength !== chunkLength) {
      return badRequest(exchange, `Content-Range covers ${chunkLength} bytes but Content-Length is ${exchange.contentLength}.`);
    }
    if (first > session.committed) {
      return badRequest(exchange, `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.committed} byte(s).`);
    }
    const isLast = total !== undefined && last + 1 === total;
    if (!isLast && chunkLength < youtubeChunkGranularity) {
      return badRequest(
        exchange,
        `Invalid request. The number of bytes uploaded is required to be equal or greater than ${youtubeChunkGranularity}, except for the final request (it's recommended to be the exact multiple of ${youtubeChunkGranularity}). The received request contained ${chunkLength} bytes, which does not meet this requirement.`,
      );
    }
    const start = session.committed;
    const skip = start - first;
    const receipt = await session.bytes.receive(exchange.uploadBody(), start, { skip, limit: Math.max(0, chunkLength - skip) });
    const whole = receipt.received === chunkLength;
    if (!receipt.broken && !whole) {
      await session.bytes.truncate(start);
      return badRequest(exchange, `The body carried ${receipt.received} bytes, not the ${chunkLength} of its Content-Range.`);
    }
    // Google keeps whole 256 KiB units of an unfinished upload, and everything once the last byte arrived.
    const kept = whole && isLast ? receipt.written : Math.floor(receipt.written / youtubeChunkGranularity) * youtubeChunkGranularity;
    session.bytes.accept(start, start + kept);
    await session.bytes.truncate(start + kept);
    session.committed = start + kept;
    session.totalLength ??= total;
    const video = session.totalLength === session.committed ? completeVideo(session) : undefined;
    if (receipt.broken) return;
    if (video) return answerVideo(exchange, video, session.parts);
    answerIncomplete(exchange, session);
  };

  /**
   * `DELETE <session URI>` cancels an unfinished upload: Google documents this for its resumable
   * uploads (Cloud Storage) with the answer 499; YouTube's upload service is the same one. A
   * completed session keeps its video (the answer is the video, as to any later request).
   */
  const cancelUpload = async (exchange: Exchange): Promise<void> => {
    const session = sessions.get(exchange.url.searchParams.get('upload_id') ?? '');
    if (!session || session.expired || session.cancelled) return answerGoogleError(exchange, 404, { reason: 'notFound', message: 'Not Found' });
    const finished = session.videoId === undefined ? undefined : videos.get(session.videoId);
    if (finished) return answerVideo(exchange, finished, session.parts);
    session.cancelled = true;
    await session.bytes.truncate(0);
    exchange.answerEmpty(499);
  };

  const listVideos = (exchange: Exchange): void => {
    if (!authorized(exchange, scopesFor.read)) return;
    const parts = requireParts(exchange);
    if (!parts || !charged(exchange, unitCost.list)) return;
    const items = listParameter(exchange.url.searchParams, 'id').flatMap((id) => {
      const video = videos.get(id);
      return video ? [videoResource(video, parts, channel)] : [];
    });
    exchange.answerJson(200, { kind: 'youtube#videoListResponse', etag: 'etag-list', items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } });
  };

  const listChannels = (exchange: Exchange): void => {
    if (!authorized(exchange, scopesFor.read)) return;
    const parts = requireParts(exchange);
    if (!parts || !charged(exchange, unitCost.list)) return;
    if (exchange.url.searchParams.get('mine') !== 'true') return badRequest(exchange, 'The fake serves channels.list with mine=true only.');
    const item = { kind: 'youtube#channel', etag: `etag-${channel.id}`, id: channel.id, ...(parts.includes('snippet') ? { snippet: { title: channel.title, description: '' } } : {}) };
    exchange.answerJson(200, { kind: 'youtube#channelListResponse', etag: 'etag-channels', pageInfo: { totalResults: 1, resultsPerPage: 5 }, items: [item] });
  };

  const insertPlaylistItem = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, scopesFor.playlistInsert)) return;
    if (!requireParts(exchange)) return;
    let body: { snippet?: { playlistId?: unknown; resourceId?: { kind?: unknown; videoId?: unknown } } };
    try {
      body = JSON.parse((await exchange.readSmallBody()).toString() || '{}') as typeof body;
    } catch {
      return answerGoogleError(exchange, 400, { reason: 'parseError', message: 'Parse Error' });
    }
    if (!charged(exchange, unitCost.playlistItemsInsert)) return;
    const playlistId = String(body.snippet?.playlistId ?? '');
    const resourceId = body.snippet?.resourceId;
    if (resourceId?.kind !== 'youtube#video' || typeof resourceId.videoId !== 'string') {
      return answerGoogleError(exchange, 400, { reason: 'invalidResourceId', domain: 'youtube.playlistItem', message: 'The resource ID is not valid for a playlist item.' });
    }
    const items = playlists.get(playlistId);
    if (!items) {
      return answerGoogleError(exchange, 404, { reason: 'playlistNotFound', domain: 'youtube.playlistItem', message: 'Playlist not found.', location: 'playlistId' });
    }
    const video = videos.get(resourceId.videoId);
    if (!video) return answerGoogleError(exchange, 404, { reason: 'videoNotFound', domain: 'youtube.playlistItem', message: 'Video not found.' });
    items.push(video.id);
    exchange.answerJson(200, {
      kind: 'youtube#playlistItem',
      etag: `etag-${playlistId}-${items.length}`,
      id: randomIdentifier(40),
      snippet: {
        publishedAt: new Date().toISOString(),
        channelId: channel.id,
        title: video.metadata.snippet.title,
        description: video.metadata.snippet.description,
        channelTitle: channel.title,
        playlistId,
        position: items.length - 1,
        resourceId: { kind: 'youtube#video', videoId: video.id },
        videoOwnerChannelId: channel.id,
        videoOwnerChannelTitle: channel.title,
      },
    });
  };

  const refreshToken = (exchange: Exchange): Promise<void> =>
    answerTokenRequest(exchange, tokens, options.clients ?? [], {
      tokenType: 'Bearer',
      accessLifetimeSeconds,
      invalidClientStatus: 401,
      invalidGrantDescription: 'Token has been expired or revoked.',
    });

  const routes: Route[] = [
    { endpoint: 'videos.insert', method: 'POST', path: /^\/upload\/youtube\/v3\/videos$/, handle: initiateUpload },
    { endpoint: 'upload', method: 'PUT', path: /^\/upload\/youtube\/v3\/videos$/, handle: oneAtATime(receiveChunk) },
    { endpoint: 'upload.cancel', method: 'DELETE', path: /^\/upload\/youtube\/v3\/videos$/, handle: oneAtATime(cancelUpload) },
    { endpoint: 'videos.list', method: 'GET', path: /^\/youtube\/v3\/videos$/, handle: listVideos },
    { endpoint: 'channels.list', method: 'GET', path: /^\/youtube\/v3\/channels$/, handle: listChannels },
    { endpoint: 'playlistItems.insert', method: 'POST', path: /^\/youtube\/v3\/playlistItems$/, handle: insertPlaylistItem },
    { endpoint: 'token', method: 'POST', path: /^\/(?:token|oauth2\/v4\/token)$/, handle: refreshToken },
  ];
  const server = await startFakeServer(routes, googleDialect);
  baseUrl = options.publicUrl ?? server.url;
  directory = server.directory;

  return {
    url: server.url,
    requests: server.requests,
    requestCount: server.requestCount,
    faults: server.faults,
    close: server.close,
    tokens,
    quota,
    sessions,
    videos,
    playlists,
    expireSession: (sessionId) => {
      const session = sessions.get(sessionId);
      if (session) session.expired = true;
    },
  };
}
