import { PermanentError, TransientError, type ResumeSlot } from '../../../shared/destination/index.ts';
import { classifyFacebookError } from './errors.ts';
import { GraphError, type GraphClient } from './graph-client.ts';
import type { FacebookResumeState, ResumableUploadState } from './resume-state.ts';

/** Failures that happen before a request leaves: nothing reached Facebook. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTALLOWED']);

function neverSent(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && notSentCodes.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a publish that failed may still have made the video: its answer was lost, or came from a
 * gateway (502, 504) that gave up waiting for Graph rather than from Graph itself. A request that
 * never left, or that Graph answered with its own error, made none.
 */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof GraphError) return error.status === 502 || error.status === 504;
  return !neverSent(error);
}

function unconfirmed(pageId: string, cause?: unknown): PermanentError {
  return new PermanentError(
    `the request publishing the video on Page ${pageId} reached Facebook, but its answer was lost and the Page's videos could not be read to find it: the video may be on the Page. ` +
      'It is not published again, so as not to make a second copy: look at the Page, and send the job again if the video is not there',
    { code: 'PublishUnconfirmed', cause },
  );
}

/** The Page, the token that speaks for it, and the video's fields. */
export interface Publication {
  readonly graph: GraphClient;
  readonly pageId: string;
  readonly pageToken: string;
  readonly parameters: Readonly<Record<string, string>>;
}

/** Graph's clock and the function's may differ, and `created_time` counts whole seconds. */
const clockSkewSeconds = 60;

interface ListedVideo {
  readonly id: string;
  readonly title?: string;
  readonly description?: string;
  readonly created_time?: string;
}

/**
 * The video a publish sent at `since` made, if the Page shows one: the newest videos created since
 * then (less the clock skew) with this publication's title and description. A publish is never
 * sent twice while an earlier one's outcome is unknown, so at most one of them is ours: the first.
 */
async function publishedSince(publication: Publication, since: string, signal: AbortSignal): Promise<string | undefined> {
  const { graph, pageId, pageToken, parameters } = publication;
  signal.throwIfAborted();
  const from = Math.floor(Date.parse(since) / 1000) - clockSkewSeconds;
  let listed: { readonly data?: readonly ListedVideo[] };
  try {
    listed = await graph.get(`${pageId}/videos`, pageToken, { fields: 'id,title,description,created_time', since: String(from), limit: '100' });
  } catch (error) {
    // A read that fails for now (a 5xx, a throttle) is made again by the next attempt, which still finds the note.
    if (error instanceof GraphError && !classifyFacebookError(error).retryable) throw unconfirmed(pageId, error);
    throw error;
  }
  const ours = (listed.data ?? []).filter(
    (video) =>
      (video.title ?? '') === (parameters.title ?? '') &&
      (video.description ?? '') === (parameters.description ?? '') &&
      Date.parse((video.created_time ?? '').replace(/\+0000$/, 'Z')) / 1000 >= from,
  );
  return ours.at(-1)?.id;
}

/**
 * Publishes an uploaded file handle as a video on the Page and returns the video's ID. Every
 * publish makes a video, and Graph offers no way to find one by its handle, so the state notes
 * when a publish goes out before the request leaves. An attempt that loses the answer, or gets a
 * gateway's 502 or 504 instead, ends (transient); the next one, finding the note, looks for the
 * video among the Page's newest (`publishedSince`) and publishes again only when it is not there.
 * Without the right to read the Page's videos it fails for good with `PublishUnconfirmed` rather
 * than risk a second copy. A publish that Graph answered with its error, or that never left, may be
 * tried again at once.
 */
export async function publishHandle(
  publication: Publication,
  state: ResumableUploadState & { readonly handle: string },
  resume: ResumeSlot<FacebookResumeState>,
  signal: AbortSignal,
): Promise<string> {
  const { graph, pageId, pageToken, parameters } = publication;
  if (state.publishing === true) throw unconfirmed(pageId);
  if (state.publishing !== undefined) {
    const found = await publishedSince(publication, state.publishing, signal);
    if (found !== undefined) return found;
  }
  signal.throwIfAborted();
  await resume.save({ ...state, publishing: new Date().toISOString() });
  try {
    const answer = await graph.postForm<{ id: string }>(`${pageId}/videos`, pageToken, new URLSearchParams({ ...parameters, fbuploader_video_file_chunk: state.handle }));
    return answer.id;
  } catch (error) {
    if (outcomeUnknown(error)) {
      throw new TransientError(`the request publishing the video on Page ${pageId} reached Facebook, but no answer said what became of it: the next attempt looks for the video before publishing again`, {
        code: 'PublishUnconfirmed',
        cause: error,
      });
    }
    const { publishing, ...unsent } = state;
    await resume.save(unsent);
    throw error;
  }
}
