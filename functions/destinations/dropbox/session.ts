import { crc32Combine, TransientError, type DeliverySource, type ResumeSlot, type SourcePart } from '../../../shared/destination/index.ts';
import { DropboxApiError, type DropboxApi, type FileMetadata } from './client.ts';
import { commitInfo, commitOnce, findDelivered, type Commit } from './commit.ts';
import { blockDigests, ContentHasher, contentHashOf, type ContentHashState } from './content-hash.ts';
import { errorBody, errorTags } from './errors.ts';
import { pauseBeforeRetry, type RetrySettings } from './retry.ts';

/**
 * What a later attempt needs to continue an upload session: its id and the path it is for, and
 * what the bytes Dropbox had taken when this was saved add up to (their CRC-32, so the source is
 * reopened there, and their content hash, so the whole file is still checked). Without a session
 * id, the whole file (`offset` bytes) went out in one `files/upload` whose outcome this attempt
 * may not have seen: there is nothing to continue, only a file to look for before sending again.
 */
export interface DropboxResumeState {
  readonly sessionId?: string;
  readonly path: string;
  readonly offset: number;
  readonly crc32?: number;
  readonly contentHash: ContentHashState;
}

/** A file stored through a session. */
export interface SessionOutcome {
  readonly stored: FileMetadata;
  /** What was sent: its size and content hash, which the stored file must match. */
  readonly size: number;
  readonly contentHash: string;
  /** Bytes an earlier attempt had already sent. */
  readonly resumedAt: number;
}

export interface SessionSettings {
  /** Bytes per append: a multiple of 4 MiB, at most 148 MiB. */
  readonly chunkBytes: number;
  readonly retry: RetrySettings;
}

/** The state of an upload session this service started. */
type SessionState = DropboxResumeState & { readonly sessionId: string };

/** Where an earlier attempt's session stands, as Dropbox confirms it. */
type Continuation =
  | { readonly kind: 'continue'; readonly state: SessionState; readonly confirmed: number }
  | { readonly kind: 'delivered'; readonly stored: FileMetadata; readonly state: DropboxResumeState };

const empty = new Uint8Array(0);

/** The offset Dropbox gives in an `incorrect_offset` answer, if this is one. */
function correctOffset(error: unknown): number | undefined {
  if (!(error instanceof DropboxApiError) || error.status !== 409) return undefined;
  let union = errorBody(error);
  if (union?.['.tag'] === 'lookup_failed') union = union.lookup_failed as typeof union;
  return union?.['.tag'] === 'incorrect_offset' && typeof union.correct_offset === 'number' ? union.correct_offset : undefined;
}

function isGone(error: unknown): boolean {
  if (!(error instanceof DropboxApiError) || error.status !== 409) return false;
  const tags = errorTags(error.body);
  return tags.includes('not_found') || tags.includes('closed');
}

/** An upload session of one file: starts or continues it, appends the source's chunks, commits it. */
export class UploadSession {
  readonly #client: DropboxApi;
  readonly #commit: Commit;
  readonly #settings: SessionSettings;
  readonly #signal: AbortSignal;

  constructor(client: DropboxApi, commit: Commit, settings: SessionSettings, signal: AbortSignal) {
    this.#client = client;
    this.#commit = commit;
    this.#settings = settings;
    this.#signal = signal;
  }

  /**
   * Sends `source` through a session, continuing the one `resume` holds when Dropbox still has it:
   * Dropbox answers an append at the saved offset with the offset it really holds (a request
   * whose answer was lost counts), and the source is read from the saved offset on, the bytes up
   * to Dropbox's offset only summed and hashed. `opened` is a fresh upload's source already being
   * read, with the parts taken from it so far (a source of unknown size is read one chunk ahead to
   * tell a single request from a session).
   */
  async send(source: DeliverySource, resume: ResumeSlot<DropboxResumeState>, opened?: { parts: AsyncGenerator<SourcePart>; first: readonly SourcePart[] }): Promise<SessionOutcome> {
    const continuation = opened ? undefined : await this.#continuation(resume.state, source.size);
    if (continuation?.kind === 'delivered') {
      const { offset, contentHash } = continuation.state;
      return { stored: continuation.stored, size: offset, contentHash: ContentHasher.from(contentHash).digest(), resumedAt: offset };
    }
    let state = continuation?.state;
    if (!state) {
      const started = await this.#client.upload<{ session_id: string }>('files/upload_session/start', { close: false }, empty, this.#signal);
      state = { sessionId: started.session_id, path: this.#commit.path, offset: 0, contentHash: ContentHasher.from().state };
      await resume.save(state);
    }
    const confirmed = continuation?.confirmed ?? 0;
    const start = state.offset;
    const parts = opened ? prepend(opened.first, opened.parts) : source.parts(this.#cutter(start, confirmed), start > 0 ? { offset: start, ...(state.crc32 === undefined ? {} : { crc32: state.crc32 }) } : undefined);
    const hasher = ContentHasher.from(state.contentHash);
    let crc32 = state.crc32;
    let offset = start;
    await forEachPrefetched(parts, async ({ part, digests }) => {
      if (part.offset + part.bytes.length > confirmed) await this.#append(state.sessionId, part.offset, part.bytes, contentHashOf(digests));
      part.release();
      hasher.add(digests);
      const partCrc = Buffer.from(part.crc32, 'base64').readUInt32BE(0);
      crc32 = offset === 0 || crc32 === undefined ? partCrc : crc32Combine(crc32, partCrc, part.bytes.length);
      offset += part.bytes.length;
      if (offset > confirmed) await resume.save({ sessionId: state.sessionId, path: this.#commit.path, offset, crc32, contentHash: hasher.state });
    });
    const contentHash = hasher.digest();
    const cursor = { session_id: state.sessionId, offset };
    const stored = await commitOnce(
      this.#client,
      this.#commit,
      { size: offset, contentHash },
      () => this.#client.upload<FileMetadata>('files/upload_session/finish', { cursor, commit: commitInfo(this.#commit) }, empty, this.#signal),
      this.#settings.retry,
      this.#signal,
    );
    return { stored, size: offset, contentHash, resumedAt: continuation?.kind === 'continue' ? confirmed : 0 };
  }

  /**
   * Asks Dropbox where the saved session stands (an empty append at the saved offset). A session
   * it no longer knows, or a `files/upload` saved without one, may have committed the file in an
   * attempt whose answer was lost: the file is looked for; otherwise the upload starts again.
   */
  async #continuation(saved: DropboxResumeState | undefined, size: number | undefined): Promise<Continuation | undefined> {
    if (!saved || saved.path !== this.#commit.path) return undefined;
    const { sessionId } = saved;
    if (sessionId !== undefined) {
      try {
        await this.#client.upload('files/upload_session/append_v2', { cursor: { session_id: sessionId, offset: saved.offset }, close: false }, empty, this.#signal);
        return { kind: 'continue', state: { ...saved, sessionId }, confirmed: saved.offset };
      } catch (error) {
        const correct = correctOffset(error);
        if (correct !== undefined) return correct >= saved.offset ? { kind: 'continue', state: { ...saved, sessionId }, confirmed: correct } : undefined;
        if (!isGone(error)) throw error;
      }
    }
    // A finish goes out only once every byte's append was saved: a source that does not tell its
    // size is looked for at the saved offset all the same (only a file of those bytes' hash counts).
    if (size !== undefined && saved.offset !== size) return undefined;
    const contentHash = ContentHasher.from(saved.contentHash).digest();
    const stored = await findDelivered(this.#client, this.#commit, { size: saved.offset, contentHash }, this.#signal);
    return stored ? { kind: 'delivered', stored, state: saved } : undefined;
  }

  /** Chunk lengths from `start`: whole chunks, but a part ends where Dropbox's confirmed bytes end. */
  #cutter(start: number, confirmed: number): (index: number) => number {
    const { chunkBytes } = this.#settings;
    let cut = start;
    return () => {
      const length = cut < confirmed ? Math.min(chunkBytes, confirmed - cut) : chunkBytes;
      cut += length;
      return length;
    };
  }

  /**
   * Appends one chunk at `offset`, trying again after a dropped connection or a 5xx. Dropbox keeps
   * a request whole or not at all; a try whose answer was lost shows as `incorrect_offset` at the
   * chunk's end, and counts as sent.
   */
  async #append(sessionId: string, offset: number, bytes: Buffer, contentHash: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#client.upload('files/upload_session/append_v2', { cursor: { session_id: sessionId, offset }, close: false, content_hash: contentHash }, bytes, this.#signal);
        return;
      } catch (error) {
        const correct = correctOffset(error);
        if (correct === offset + bytes.length) return;
        if (correct !== undefined) {
          throw new TransientError(`Dropbox holds ${correct} bytes of the session, not ${offset}: the next attempt continues from there`, { code: 'incorrect_offset', cause: error });
        }
        await pauseBeforeRetry(error, attempt, this.#settings.retry, this.#signal);
      }
    }
  }

  /**
   * Ends a session an attempt left (the delivery failed for good). Dropbox has no call that
   * deletes one: closing it refuses further bytes, and Dropbox drops them when the session
   * expires. They never count against the account's space or show as a file. A `files/upload`
   * left nothing to end.
   */
  async close(state: DropboxResumeState): Promise<void> {
    if (state.sessionId === undefined) return;
    try {
      await this.#client.upload('files/upload_session/append_v2', { cursor: { session_id: state.sessionId, offset: state.offset }, close: true }, empty, this.#signal);
    } catch (error) {
      const correct = correctOffset(error);
      if (correct !== undefined) return this.close({ ...state, offset: correct });
      if (!isGone(error)) throw error;
    }
  }
}

async function* prepend(first: readonly SourcePart[], rest: AsyncGenerator<SourcePart>): AsyncGenerator<SourcePart> {
  yield* first;
  yield* rest;
}

/** A part with the SHA-256 digests of its 4 MiB blocks. */
interface HashedPart {
  readonly part: SourcePart;
  readonly digests: Buffer[];
}

/**
 * Runs `work` on each part in order, reading and hashing the next part while the current one is
 * sent (source, hashing and upload overlap, with two parts in memory). A failure stops the
 * reading; nothing is still being read when this returns or throws.
 */
async function forEachPrefetched(parts: AsyncGenerator<SourcePart>, work: (hashed: HashedPart) => Promise<void>): Promise<void> {
  const read = (): Promise<HashedPart | undefined> => {
    const pending = parts.next().then((item) => (item.done ? undefined : { part: item.value, digests: blockDigests(item.value.bytes) }));
    // A read that fails while a part is being sent is reported when awaited, not as unhandled.
    pending.catch(() => undefined);
    return pending;
  };
  let next = read();
  try {
    for (;;) {
      const hashed = await next;
      if (!hashed) return;
      next = read();
      await work(hashed);
    }
  } finally {
    // Settles the read in flight (a closed source ends it) before the generator is closed.
    await next.catch(() => undefined);
    await parts.return(undefined).catch(() => undefined);
  }
}
