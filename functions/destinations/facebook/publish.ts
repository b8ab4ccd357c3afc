import { PermanentError, type ResumeSlot } from '../../../shared/destination/index.ts';
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

function unconfirmed(pageId: string, cause?: unknown): PermanentError {
  return new PermanentError(
    `the request publishing the video on Page ${pageId} reached Facebook, but its answer was lost: the video may be on the Page. ` +
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

/**
 * Publishes an uploaded file handle as a video on the Page and returns the video's ID. Every
 * publish makes a video, and Graph offers no way to find one by its handle, so a publish whose
 * answer was lost is never repeated: the state says a publish is out before the request leaves,
 * and an attempt that finds it so (or loses the answer itself) fails for good with
 * `PublishUnconfirmed`. A publish that was answered with an error, or never left, may be tried again.
 */
export async function publishHandle(
  publication: Publication,
  state: ResumableUploadState & { readonly handle: string },
  resume: ResumeSlot<FacebookResumeState>,
  signal: AbortSignal,
): Promise<string> {
  const { graph, pageId, pageToken, parameters } = publication;
  if (state.publishing === true) throw unconfirmed(pageId);
  signal.throwIfAborted();
  await resume.save({ ...state, publishing: true });
  try {
    const answer = await graph.postForm<{ id: string }>(`${pageId}/videos`, pageToken, new URLSearchParams({ ...parameters, fbuploader_video_file_chunk: state.handle }));
    return answer.id;
  } catch (error) {
    if (!(error instanceof GraphError) && !neverSent(error)) throw unconfirmed(pageId, error);
    await resume.save({ ...state, publishing: false });
    throw error;
  }
}
