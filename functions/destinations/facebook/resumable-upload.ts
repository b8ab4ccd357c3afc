import { TransientError, type DeliverySource, type ResumeSlot } from '../../../shared/destination/index.ts';
import { uploadSessionExpired } from './errors.ts';
import { GraphError, type GraphClient } from './graph-client.ts';
import type { FacebookResumeState, ResumableUploadState } from './resume-state.ts';

/** The Resumable Upload API takes these types; a video is `video/mp4` (Facebook reads the container itself). */
const videoFileType = 'video/mp4';

/** Who uploads, where the video will be published, and the file. */
export interface SessionUpload {
  readonly graph: GraphClient;
  /** A user or system-user token of a person with a role on the token's app. */
  readonly uploaderToken: string;
  readonly pageId: string;
  readonly source: DeliverySource;
  readonly fileLength: number;
}

/**
 * Where the earlier attempt's session stands (`GET upload:<id>` → `file_offset`), or undefined
 * when it is gone: expired (1363030), or unknown to this token (100).
 */
async function confirmedOffset(upload: SessionUpload, session: string): Promise<number | undefined> {
  try {
    const status = await upload.graph.get<{ file_offset?: number | string }>(session, upload.uploaderToken);
    const offset = Number(status.file_offset ?? 0);
    return Number.isSafeInteger(offset) && offset >= 0 && offset <= upload.fileLength ? offset : 0;
  } catch (error) {
    if (error instanceof GraphError && (error.subcode === uploadSessionExpired || error.code === 100)) return undefined;
    throw error;
  }
}

interface TransferAnswer {
  readonly h?: string;
  readonly file_offset?: number;
}

/** `POST /<app>/uploads` on the token's own app (`GET /app`). */
async function openSession(upload: SessionUpload): Promise<ResumableUploadState> {
  const app = await upload.graph.get<{ id: string }>('app', upload.uploaderToken, { fields: 'id' });
  const opened = await upload.graph.postForm<{ id: string }>(
    `${app.id}/uploads`,
    upload.uploaderToken,
    new URLSearchParams({ file_name: upload.source.name, file_length: String(upload.fileLength), file_type: videoFileType }),
  );
  return { flow: 'resumable', session: opened.id, pageId: upload.pageId, fileLength: upload.fileLength };
}

/**
 * Sends the file through the Resumable Upload API and returns its handle, with the state that
 * holds it and the bytes an earlier attempt had sent. The session is saved as soon as it exists;
 * a later attempt asks it how many bytes it holds and streams only the rest, read from the source
 * at that offset. Facebook keeps the bytes of a request that broke off, so nothing is sent twice.
 * When every byte is up but the answer with the handle was lost, an empty request at the end asks
 * for the handle again. A request refused because Facebook stands elsewhere (1363037) ends the
 * attempt: the source is read once, and the next attempt asks the session where it stands.
 */
export async function uploadThroughSession(
  upload: SessionUpload,
  resume: ResumeSlot<FacebookResumeState>,
): Promise<{ readonly state: ResumableUploadState & { readonly handle: string }; readonly resumedAt: number }> {
  const earlier = resume.state;
  let state = earlier?.flow === 'resumable' && earlier.pageId === upload.pageId && earlier.fileLength === upload.fileLength ? earlier : undefined;
  if (state?.handle !== undefined) return { state: { ...state, handle: state.handle }, resumedAt: upload.fileLength };
  let offset = state === undefined ? undefined : await confirmedOffset(upload, state.session);
  if (state === undefined || offset === undefined) {
    state = await openSession(upload);
    offset = 0;
    await resume.save(state);
  }
  // With every byte up already, an empty request asks for the handle; no stream is opened then.
  const body = offset < upload.fileLength ? await upload.source.stream({ offset }) : Buffer.alloc(0);
  const answer = await upload.graph.postBytes<TransferAnswer>(state.session, upload.uploaderToken, { file_offset: String(offset) }, body, upload.fileLength - offset);
  if (answer.h === undefined) {
    throw new TransientError(`Facebook holds ${String(answer.file_offset)} of the ${upload.fileLength} bytes and gave no file handle yet`, { code: 'UploadIncomplete' });
  }
  const uploaded = { ...state, handle: answer.h };
  await resume.save(uploaded);
  return { state: uploaded, resumedAt: offset };
}
