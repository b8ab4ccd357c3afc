import type { GoogleProblem } from './google-errors.ts';

/** The video's snippet and status as the upload's metadata set them, after YouTube's defaults. */
export interface VideoMetadata {
  readonly snippet: {
    readonly title: string;
    readonly description: string;
    readonly tags: readonly string[];
    readonly categoryId: string;
  };
  readonly status: {
    readonly privacyStatus: 'public' | 'unlisted' | 'private';
    readonly selfDeclaredMadeForKids: boolean | undefined;
  };
}

/** The channel the fake's tokens act for. */
export interface YouTubeChannel {
  readonly id: string;
  readonly title: string;
}

/** Video categories assignable in the US region (videoCategories.list, `assignable: true`). */
export const assignableCategoryIds: readonly string[] = ['1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29'];

const privacyStatuses = new Set(['public', 'unlisted', 'private']);
const limits = { titleCharacters: 100, descriptionBytes: 5000, tagCharacters: 500 };

function problem(reason: string, message: string): GoogleProblem {
  return { reason, message, domain: 'youtube.video' };
}

/**
 * Reads the video resource of a `videos.insert` request, with the documented limits: title at most
 * 100 characters, description at most 5,000 bytes, neither with `<` or `>`; tags at most 500
 * characters counting commas and the quotes around tags with spaces; an assignable category ID.
 * Unverified API projects get every upload locked private, as YouTube has done since 2020.
 */
export function readVideoMetadata(resource: unknown, categoryIds: ReadonlySet<string>, unverifiedProject: boolean): VideoMetadata | GoogleProblem {
  const video = asRecord(resource);
  const snippet = asRecord(video.snippet);
  const status = asRecord(video.status);
  // YouTube names an upload without a title itself; the fake uses a fixed name.
  const title = snippet.title ?? 'unknown';
  if (typeof title !== 'string' || title.trim() === '' || [...title].length > limits.titleCharacters || /[<>]/.test(title)) {
    return problem('invalidTitle', 'The request metadata specifies an invalid or empty video title.');
  }
  const description = snippet.description ?? '';
  if (typeof description !== 'string' || Buffer.byteLength(description) > limits.descriptionBytes || /[<>]/.test(description)) {
    return problem('invalidDescription', 'The request metadata specifies an invalid video description.');
  }
  const tags = snippet.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((tag): tag is string => typeof tag === 'string') || tagCharacters(tags) > limits.tagCharacters) {
    return problem('invalidTags', 'The request metadata specifies invalid video keywords.');
  }
  const categoryId = snippet.categoryId ?? '22';
  if (typeof categoryId !== 'string' || !categoryIds.has(categoryId)) {
    return problem('invalidCategoryId', 'The snippet.categoryId property specifies an invalid category ID.');
  }
  const privacyStatus = status.privacyStatus ?? 'public';
  const madeForKids = status.selfDeclaredMadeForKids;
  if (typeof privacyStatus !== 'string' || !privacyStatuses.has(privacyStatus) || (madeForKids !== undefined && typeof madeForKids !== 'boolean')) {
    return problem('invalidVideoMetadata', 'The request metadata is invalid.');
  }
  return {
    snippet: { title, description, tags, categoryId },
    status: {
      privacyStatus: unverifiedProject ? 'private' : (privacyStatus as VideoMetadata['status']['privacyStatus']),
      selfDeclaredMadeForKids: madeForKids,
    },
  };
}

/** Whether a `readVideoMetadata` result is a refusal. */
export function isProblem(value: VideoMetadata | GoogleProblem): value is GoogleProblem {
  return 'reason' in value;
}

function tagCharacters(tags: readonly string[]): number {
  const quoted = tags.reduce((sum, tag) => sum + tag.length + (tag.includes(' ') ? 2 : 0), 0);
  return quoted + Math.max(0, tags.length - 1);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The `video` resource with the parts asked for (`snippet`, `status`; `id` and `kind` always). */
export function videoResource(video: { readonly id: string; readonly metadata: VideoMetadata; readonly publishedAt: string }, parts: readonly string[], channel: YouTubeChannel): Record<string, unknown> {
  const { snippet, status } = video.metadata;
  return {
    kind: 'youtube#video',
    etag: `etag-${video.id}`,
    id: video.id,
    ...(parts.includes('snippet')
      ? {
          snippet: {
            publishedAt: video.publishedAt,
            channelId: channel.id,
            title: snippet.title,
            description: snippet.description,
            channelTitle: channel.title,
            ...(snippet.tags.length > 0 ? { tags: snippet.tags } : {}),
            categoryId: snippet.categoryId,
            liveBroadcastContent: 'none',
            localized: { title: snippet.title, description: snippet.description },
          },
        }
      : {}),
    ...(parts.includes('status')
      ? {
          status: {
            uploadStatus: 'uploaded',
            privacyStatus: status.privacyStatus,
            license: 'youtube',
            embeddable: true,
            publicStatsViewable: true,
            ...(status.selfDeclaredMadeForKids === undefined ? {} : { selfDeclaredMadeForKids: status.selfDeclaredMadeForKids }),
          },
        }
      : {}),
  };
}

/** The `part` parameter as a list; Google clients send it comma-separated or repeated. */
export function listParameter(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}
