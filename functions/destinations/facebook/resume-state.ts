/**
 * What a later attempt needs to go on with a video upload, saved sealed: an upload session's ID
 * (with its signature) is a capability. Which of the two depends on the token's kind
 * (`target.ts`).
 */
export type FacebookResumeState = ResumableUploadState | UploadPhaseState;

/** A Resumable Upload API session on the token's app, and how far the video got. */
export interface ResumableUploadState {
  readonly flow: 'resumable';
  /** `upload:<id>?sig=<signature>`, as Meta answered it. */
  readonly session: string;
  readonly pageId: string;
  readonly fileLength: number;
  /** The file handle, once every byte is up: a later attempt only publishes. */
  readonly handle?: string;
  /**
   * When a publish request went out (ISO 8601), until its answer came: a later attempt that finds
   * it looks for the video on the Page before publishing again. (`true`: an older record, without
   * the time.)
   */
  readonly publishing?: string | true;
}

/** A session of the Page's `upload_phase` flow: the video's ID is fixed when it starts. */
export interface UploadPhaseState {
  readonly flow: 'upload-phase';
  readonly sessionId: string;
  readonly videoId: string;
  readonly pageId: string;
  readonly fileSize: number;
  /** The chunk Facebook asked for next: bytes `startOffset` to `endOffset` (equal once every byte is up). */
  readonly startOffset: number;
  readonly endOffset: number;
}
