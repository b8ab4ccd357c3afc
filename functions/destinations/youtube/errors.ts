import { classifyGeneric, PermanentError, TransientError, WaitError, type DeliveryError } from '../../../shared/destination/index.ts';
import { nextPacificMidnight } from './quota.ts';

/** The call of the YouTube Data API that failed: what a classification may say about it. */
export type YouTubeOperation = 'videos.insert' | 'upload' | 'videos.list' | 'playlistItems.insert';

/** A Google API error answer (`{ error: { code, message, errors: [{ reason, domain }] } }`). */
export class GoogleApiError extends Error {
  public constructor(
    public readonly operation: YouTubeOperation,
    public readonly status: number,
    /** The first entry's `reason` (`quotaExceeded`, `invalidTitle`, …), or '' when the body had none. */
    public readonly reason: string,
    public readonly domain: string,
    message: string,
    /** The `Retry-After` header, when the answer had one. */
    public readonly retryAfter: string | null = null,
  ) {
    super(`YouTube ${operation}: HTTP ${status}${reason ? ` ${reason}` : ''}: ${message}`);
    this.name = 'GoogleApiError';
  }
}

/** An OAuth token endpoint error answer (`{ error, error_description }`) to a refresh. */
export class OAuthTokenError extends Error {
  public constructor(
    public readonly status: number,
    /** `invalid_grant`, `invalid_client`, … */
    public readonly error: string,
    /** The stored secret whose refresh token was used. */
    public readonly secretName: string,
    description: string,
  ) {
    super(`Google token endpoint: HTTP ${status} ${error}${description ? `: ${description}` : ''}`);
    this.name = 'OAuthTokenError';
  }
}

/** A session URI Google no longer knows (404) or has ended (410): expired, or cancelled. */
export function isSessionGone(error: unknown): boolean {
  return error instanceof GoogleApiError && error.operation === 'upload' && (error.status === 404 || error.status === 410);
}

/** Reasons the daily quotas give: they reset at midnight Pacific time. */
const dailyLimitReasons = new Set(['quotaExceeded', 'dailyLimitExceeded', 'uploadLimitExceeded']);
const rateLimitReasons = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
/** How long to wait for a rate limit that does not say (the per-minute quotas). */
const rateLimitWaitSeconds = 60;

/** Refusals of the video's metadata: which field to change, and how. */
const metadataAdvice: Readonly<Record<string, string>> = {
  invalidTitle: 'title: YouTube refused the title (at most 100 characters, not empty, no < or >)',
  invalidDescription: 'description: YouTube refused the description (at most 5,000 bytes, no < or >)',
  invalidCategoryId: 'category: YouTube does not let uploads take this category in the channel’s region; use "22" (People & Blogs)',
  invalidTags: 'tags: YouTube refused the tags (at most 500 characters in all, no < or >)',
  invalidVideoMetadata: 'YouTube refused the video’s metadata (status, category)',
  mediaBodyRequired: 'YouTube received no video bytes',
  invalidFilename: 'YouTube refused the file',
};

const scopeAdvice =
  'the token lacks a YouTube scope this needs: https://www.googleapis.com/auth/youtube.upload to upload, ' +
  'and https://www.googleapis.com/auth/youtube to add to a playlist (playlistid); authorize again with them';

function classifyApiError(error: GoogleApiError, now: Date): DeliveryError {
  const { reason, status, operation } = error;
  const options = { code: reason || `HTTP${status}`, cause: error };
  if (dailyLimitReasons.has(reason)) {
    const which = reason === 'uploadLimitExceeded' ? 'the channel’s upload limit' : 'the API project’s daily quota';
    return new WaitError(`YouTube ${operation}: ${which} is used up (${reason}); waiting until it resets at midnight Pacific time`, {
      ...options,
      until: nextPacificMidnight(now),
    });
  }
  if (rateLimitReasons.has(reason) || status === 429) {
    const seconds = Number(error.retryAfter ?? '') || rateLimitWaitSeconds;
    return new WaitError(`YouTube ${operation}: rate limited (${reason || status}); waiting ${seconds} s`, {
      ...options,
      until: new Date(now.getTime() + seconds * 1000),
    });
  }
  if (status === 401) {
    return new PermanentError(
      `YouTube ${operation}: the access token was refused (invalid, expired or revoked; one minted from auth_secret is refused only when freshly minted too). ` +
        'Send a fresh oauth_access_token (they live an hour), or use auth_secret, which the service refreshes itself; a refused auth_secret needs the channel authorized again',
      { ...options, code: 'InvalidCredentials' },
    );
  }
  if (reason === 'insufficientPermissions') return new PermanentError(`YouTube ${operation}: ${scopeAdvice}`, { ...options, code: 'InsufficientScope' });
  const advice = metadataAdvice[reason];
  if (advice) return new PermanentError(`YouTube ${operation}: ${advice}`, options);
  if (reason === 'playlistNotFound') {
    return new PermanentError('playlistid: the playlist does not exist on this channel, or the token may not add to it', options);
  }
  if (isSessionGone(error)) {
    return new TransientError('YouTube upload: the upload session has expired; the next attempt starts a new one', { ...options, code: 'SessionExpired' });
  }
  if (status === 403) {
    return new PermanentError(`YouTube ${operation}: forbidden (${reason || 'no reason given'}): ${error.message}`, options);
  }
  return classifyGeneric(error, status, error.retryAfter);
}

function classifyTokenError(error: OAuthTokenError): DeliveryError {
  const options = { code: error.error || `HTTP${error.status}`, cause: error };
  if (error.error === 'invalid_grant') {
    return new PermanentError(
      `auth_secret '${error.secretName}': Google refused its refresh token (invalid_grant: revoked, expired, or issued to another OAuth client). ` +
        `Authorize again: npm run authorize -- youtube ${error.secretName}`,
      options,
    );
  }
  if (error.error === 'invalid_client' || error.error === 'unauthorized_client') {
    return new PermanentError(
      `Google refused the deployment’s OAuth client (${error.error}): check client_id and client_secret in the application secret application/youtube`,
      options,
    );
  }
  return classifyGeneric(error, error.status);
}

/**
 * Decides what a YouTube failure means for the delivery: quotas wait (until midnight Pacific for
 * the daily ones, briefly for rate limits) without spending an attempt; refused tokens, scopes and
 * metadata are permanent and say what to change; expired sessions, 5xx and dropped connections are
 * transient. The original error is kept as the cause.
 */
export function classifyYouTubeError(error: unknown, now: Date = new Date()): DeliveryError {
  if (error instanceof GoogleApiError) return classifyApiError(error, now);
  if (error instanceof OAuthTokenError) return classifyTokenError(error);
  return classifyGeneric(error);
}
