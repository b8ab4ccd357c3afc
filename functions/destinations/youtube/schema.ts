import * as z from 'zod/mini';
import { alsoWithFieldErrors, credentialText, headerValue, notSecret, secret, type DestinationDefinition } from '../../../shared/destination/index.ts';

/**
 * Category IDs of the seeds' table, with 29 (Nonprofits & Activism), which YouTube also lets uploads
 * take. 18 (Short Movies) and 44 (Trailers) are in the seeds' table but YouTube refuses them for
 * uploads in most regions (`invalidCategoryId`, reported with what to use instead).
 */
export const youtubeCategoryIds = ['1', '2', '10', '15', '17', '18', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29', '44'] as const;

export const youtubePrivacyStatuses = ['public', 'private', 'unlisted'] as const;

/** YouTube's limits on video metadata (videos.insert): characters, bytes, and the two refused characters. */
export const youtubeLimits = { titleCharacters: 100, descriptionBytes: 5000, tagCharacters: 500 } as const;

/** The largest file YouTube takes ("256 GB" in the API reference, read as GiB). */
const maxVideoBytes = 256 * 1024 ** 3;

const noAngleBrackets = (value: string): boolean => !/[<>]/.test(value);

/**
 * The characters YouTube counts for tags: each tag, the commas between them, and the quotes it puts
 * around a tag with a space.
 */
export function tagCharacters(tags: readonly string[]): number {
  return tags.reduce((sum, tag) => sum + [...tag].length + (tag.includes(' ') ? 2 : 0), 0) + Math.max(0, tags.length - 1);
}

const youtubeDestinationObject = z.strictObject({
  type: z.literal('youtube'),
  title: z.string().check(
    z.refine((title) => title.trim() !== '', 'must not be empty'),
    z.refine((title) => [...title].length <= youtubeLimits.titleCharacters, `must be at most ${youtubeLimits.titleCharacters} characters`),
    z.refine(noAngleBrackets, 'must not contain < or >'),
    z.describe('Video title (at most 100 characters, no < or >).'),
  ),
  description: z.string().check(
    z.refine((description) => Buffer.byteLength(description) <= youtubeLimits.descriptionBytes, `must be at most ${youtubeLimits.descriptionBytes} bytes (UTF-8)`),
    z.refine(noAngleBrackets, 'must not contain < or >'),
    z.describe('Video description (at most 5,000 bytes, no < or >).'),
  ),
  category: z
    ._default(
      z.pipe(
        z.pipe(z.union([z.string(), z.number().check(z.int())]), z.transform(String)),
        z.enum(youtubeCategoryIds, { error: `must be a YouTube category ID: ${youtubeCategoryIds.join(', ')} ("22", People & Blogs, is the safe default)` }),
      ),
      '22',
    )
    .check(z.describe('YouTube category ID (e.g. "22" for People & Blogs).')),
  status: z
    ._default(z.enum(youtubePrivacyStatuses, { error: `must be one of ${youtubePrivacyStatuses.join(', ')}` }), 'public')
    .check(z.describe('Privacy: public, private or unlisted.')),
  oauth_access_token: secret(
    z
      .optional(credentialText(4096, { inHeader: true }))
      .check(z.describe("Google OAuth 2.0 access token with the youtube.upload scope: uploads to the token owner's channel (secret).")),
  ),
  auth_secret: notSecret(
    z
      .optional(z.string().check(z.regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'must be a stored secret name: letters, digits and /_+=.@-')))
      .check(z.describe("Name of a stored secret holding a refresh token (npm run authorize -- youtube <name>): uploads to the operator's own channel.")),
    'names a stored secret (as credentials does); holds no secret itself',
  ),
  tags: z
    .optional(
      z
        .array(z.string().check(z.refine((tag) => tag.trim() !== '', 'must not be empty'), z.refine(noAngleBrackets, 'must not contain < or >')))
        .check(
          z.refine((tags) => tagCharacters(tags) <= youtubeLimits.tagCharacters, {
            error: `must be at most ${youtubeLimits.tagCharacters} characters in all (commas between tags count, and quotes around tags with spaces)`,
          }),
        ),
    )
    .check(z.describe('Tags (keywords) of the video.')),
  playlistid: z
    .optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{2,64}$/, 'must be a playlist ID (letters, digits, - and _), not its name')))
    .check(z.describe('Add the video to this playlist (its ID, not its name).')),
  notifySubscribers: z._default(z.boolean(), true).check(z.describe("Notify the channel's subscribers of the new video.")),
  mimetype: z
    ._default(
      headerValue.check(
        z.regex(/^(video\/[A-Za-z0-9.+-]+|application\/octet-stream)$/i, 'must be a video MIME type (video/mp4, video/quicktime, …) or application/octet-stream'),
      ),
      'video/mp4',
    )
    .check(z.describe('MIME type of the video file.')),
});

export type YouTubeDestinationFields = z.output<typeof youtubeDestinationObject>;

/** Exactly one way to authorize, reported on the field to change. */
function checkAuthorization(destination: YouTubeDestinationFields, context: z.core.$RefinementCtx<YouTubeDestinationFields>): void {
  const hasToken = destination.oauth_access_token !== undefined;
  const hasSecret = destination.auth_secret !== undefined;
  if (hasToken && hasSecret) {
    context.addIssue({ code: 'custom', path: ['auth_secret'], message: 'cannot be combined with oauth_access_token: give one of them' });
  }
  if (!hasToken && !hasSecret) {
    context.addIssue({
      code: 'custom',
      path: ['oauth_access_token'],
      message: "is required unless auth_secret names a stored refresh token (the operator's own channel)",
    });
  }
}

export const youtubeDestinationSchema = youtubeDestinationObject.check(z.superRefine(checkAuthorization, alsoWithFieldErrors));

export const youtubeDestination: DestinationDefinition<typeof youtubeDestinationSchema> = {
  type: 'youtube',
  title: 'A YouTube channel',
  schema: youtubeDestinationSchema,
  // Google's own hosts only: no address here is the caller's choice.
  endpointsOf: () => [],
  // Chunks of 16 MiB, two in memory at once (one sent, the next read); YouTube's quota, not the
  // function, limits how many uploads a day can run.
  lambda: { memoryMb: 448, timeoutSeconds: 900, maxConcurrency: 10 },
  capabilities: {
    // The session URI is itself the credential to write into the upload: stored sealed.
    resumable: { sealed: true },
    writableCredentials: true,
    maxBytes: maxVideoBytes,
  },
  applicationSecret: {
    fields: ['client_id', 'client_secret'],
    description: "The deployment's Google OAuth client (YouTube Data API v3), used with auth_secret to mint access tokens from the stored refresh token.",
  },
};
