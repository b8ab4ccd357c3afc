import { TransientError, type DeliverySource, type ResumeSlot } from '../../../shared/destination/index.ts';
import { ByteReader } from './byte-reader.ts';
import { uploadOffsetMismatch, uploadSessionExpired } from './errors.ts';
import { GraphError, type GraphClient } from './graph-client.ts';
import { multipartChunk } from './multipart-chunk.ts';
import type { FacebookResumeState, UploadPhaseState } from './resume-state.ts';

const MiB = 1024 * 1024;

/** The largest chunk sent at once, whatever Facebook asks for: one chunk is held in memory. */
const maxChunkBytes = 32 * MiB;

/** The confirmed offset is saved every so often, for an attempt that dies without saving (a function killed). */
const saveEveryBytes = 64 * MiB;

interface Offsets {
  readonly start_offset: string | number;
  readonly end_offset: string | number;
}

/** Where a Page's video upload stands, and the token that speaks for the Page. */
export interface PageUpload {
  readonly graph: GraphClient;
  readonly pageId: string;
  readonly pageToken: string;
}

function offsetsOf(answer: Offsets): { startOffset: number; endOffset: number } {
  return { startOffset: Number(answer.start_offset), endOffset: Number(answer.end_offset) };
}

/**
 * A request of the flow on `/<page>/videos`: multipart when it carries a chunk, URL-encoded
 * otherwise (where the description travels: multipart encoding would turn its line breaks into CR LF).
 */
async function postPhase<Answer>(upload: PageUpload, fields: Record<string, string>, chunk?: Buffer): Promise<Answer> {
  const path = `${upload.pageId}/videos`;
  if (!chunk) return upload.graph.postForm<Answer>(path, upload.pageToken, new URLSearchParams(fields));
  const body = multipartChunk(fields, { field: 'video_file_chunk', bytes: chunk });
  return upload.graph.postBytes<Answer>(path, upload.pageToken, { 'content-type': body.contentType }, body.stream, body.length);
}

/** `upload_phase=start`: a session, the video's ID, and the first chunk Facebook asks for. */
async function startSession(upload: PageUpload, fileSize: number): Promise<UploadPhaseState> {
  const answer = await postPhase<Offsets & { video_id: string; upload_session_id: string }>(upload, { upload_phase: 'start', file_size: String(fileSize) });
  return { flow: 'upload-phase', sessionId: answer.upload_session_id, videoId: answer.video_id, pageId: upload.pageId, fileSize, ...offsetsOf(answer) };
}

function isSessionExpired(error: unknown): boolean {
  return error instanceof GraphError && error.subcode === uploadSessionExpired;
}

/**
 * Saves a new session in place of one that timed out (1363030) before it was completed, and so
 * made no video: the next attempt fills it from the start (or, if none can be started now, tries again).
 */
async function replaceExpiredSession(upload: PageUpload, fileSize: number, resume: ResumeSlot<FacebookResumeState>): Promise<void> {
  const fresh = await startSession(upload, fileSize).catch(() => undefined);
  if (fresh) await resume.save(fresh).catch(() => undefined);
}

/** The offsets a 1363037 (chunk at the wrong offset) names: where Facebook stands. */
function offsetsNamedBy(error: GraphError): { startOffset: number; endOffset: number } | undefined {
  const startOffset = error.dataNumber('start_offset');
  const endOffset = error.dataNumber('end_offset');
  return startOffset === undefined || endOffset === undefined ? undefined : { startOffset, endOffset };
}

/**
 * Sends the chunks Facebook asks for, from where the session stands, and returns the state with
 * every byte up. A chunk refused because Facebook stands elsewhere (1363037: an earlier answer was
 * lost) moves to the offset it names: forward by passing over bytes it has; backward only in a
 * later attempt, since the source is read once. An expired session (1363030) is replaced by a new
 * one, which the next attempt fills from the start.
 */
async function sendChunks(upload: PageUpload, first: UploadPhaseState, source: DeliverySource, resume: ResumeSlot<FacebookResumeState>): Promise<UploadPhaseState> {
  let state = first;
  let saved = state.startOffset;
  const reader = new ByteReader(await source.stream({ offset: state.startOffset }), state.startOffset);
  // One chunk is sent at a time, so its buffer is reused: memory stays at one chunk however long the file.
  let buffer: Buffer | undefined;
  try {
    while (state.startOffset < state.endOffset) {
      if (state.startOffset < reader.position) {
        throw new TransientError(`Facebook stands at byte ${state.startOffset}, behind this attempt; the next attempt continues from there`, { code: 'UploadOffsetMismatch' });
      }
      await reader.skip(state.startOffset - reader.position);
      const length = Math.min(state.endOffset - state.startOffset, maxChunkBytes);
      if (!buffer || buffer.length < length) buffer = Buffer.allocUnsafe(length);
      const chunk = await reader.read(length, buffer);
      if (chunk.length === 0) throw new TransientError(`the source ended at byte ${reader.position}, before the ${state.fileSize} it announced`, { code: 'SourceTruncated' });
      try {
        const answer = await postPhase<Offsets>(upload, { upload_phase: 'transfer', upload_session_id: state.sessionId, start_offset: String(state.startOffset) }, chunk);
        state = { ...state, ...offsetsOf(answer) };
      } catch (error) {
        const named = error instanceof GraphError && error.subcode === uploadOffsetMismatch ? offsetsNamedBy(error) : undefined;
        // Refused at the very offsets it names: Facebook contradicts itself, and sending again would loop.
        if (!named || (named.startOffset === state.startOffset && named.endOffset === state.endOffset)) throw error;
        state = { ...state, ...named };
      }
      if (state.startOffset - saved >= saveEveryBytes) {
        await resume.save(state);
        saved = state.startOffset;
      }
    }
    await reader.finish();
    return state;
  } catch (error) {
    if (isSessionExpired(error)) {
      await replaceExpiredSession(upload, state.fileSize, resume);
      throw error;
    }
    // What Facebook confirmed last: the next attempt sends from there.
    await resume.save(state).catch(() => undefined);
    throw error;
  }
}

/**
 * Uploads the source through the Page's `upload_phase` flow (start, transfer the chunks Facebook
 * asks for, finish with the video's fields) and returns the video's ID and the bytes an earlier
 * attempt had sent. The video's ID is fixed at the start, so a finish sent again after a lost
 * answer cannot make a second video.
 */
export async function uploadThroughPage(
  upload: PageUpload,
  source: DeliverySource,
  fileSize: number,
  parameters: Readonly<Record<string, string>>,
  resume: ResumeSlot<FacebookResumeState>,
): Promise<{ readonly videoId: string; readonly resumedAt: number }> {
  const earlier = resume.state;
  const continued = earlier?.flow === 'upload-phase' && earlier.pageId === upload.pageId && earlier.fileSize === fileSize ? earlier : undefined;
  let state = continued ?? (await startSession(upload, fileSize));
  if (!continued) await resume.save(state);
  if (state.startOffset < state.endOffset) {
    state = await sendChunks(upload, state, source, resume);
    // Every byte is up: a later attempt only finishes.
    await resume.save(state);
  }
  const finished = await postPhase<{ success?: boolean }>(upload, { upload_phase: 'finish', upload_session_id: state.sessionId, ...parameters }).catch(async (error: unknown) => {
    // Every byte was up, but the session timed out before a finish completed it: no video, so the next attempt sends it again.
    if (isSessionExpired(error)) await replaceExpiredSession(upload, fileSize, resume);
    throw error;
  });
  if (finished.success !== true) throw new TransientError('Facebook did not confirm the end of the upload', { code: 'FinishUnconfirmed' });
  return { videoId: state.videoId, resumedAt: continued?.startOffset ?? 0 };
}

/** `upload_phase=cancel`: Facebook drops the session and its bytes. A session already gone is fine. */
export async function cancelSession(upload: PageUpload, state: UploadPhaseState): Promise<void> {
  try {
    await postPhase(upload, { upload_phase: 'cancel', upload_session_id: state.sessionId });
  } catch (error) {
    if (!(error instanceof GraphError && error.code === 100)) throw error;
  }
}
