import { PermanentError, TransientError } from '../../../shared/destination/index.ts';
import { DropboxApiError, type DropboxApi, type FileMetadata } from './client.ts';
import { errorTags } from './errors.ts';
import { pauseBeforeRetry, type RetrySettings } from './retry.ts';

/** Where and how the file is written: Dropbox's `CommitInfo`, as this service fills it. */
export interface Commit {
  readonly path: string;
  readonly mode: 'add' | 'overwrite';
  readonly autorename: boolean;
}

/** Dropbox's `CommitInfo` for a commit. */
export function commitInfo(commit: Commit): Record<string, unknown> {
  return { path: commit.path, mode: { '.tag': commit.mode }, autorename: commit.autorename, mute: false, strict_conflict: false };
}

/** What a delivered file must be: its size and content hash. */
export interface ExpectedFile {
  readonly size: number;
  readonly contentHash: string;
}

/** `/a/b.mp4` → `/a/b (n).mp4`: where autorename puts the n-th copy. */
export function renamedPath(path: string, copy: number): string {
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${path.slice(0, slash + 1)}${stem} (${copy})${extension}`;
}

/** Copies autorename may have made, looked at after a lost answer (beyond them, another file was never written by us). */
const maxRenamedCopies = 100;

function isNotFound(error: unknown): boolean {
  return error instanceof DropboxApiError && error.status === 409 && errorTags(error.body).includes('not_found');
}

/** The file at `path`, or undefined when nothing (or a folder) is there. */
async function fileAt(client: DropboxApi, path: string, signal: AbortSignal): Promise<FileMetadata | undefined> {
  try {
    const metadata = await client.rpc<FileMetadata>('files/get_metadata', { path }, signal);
    return metadata['.tag'] === 'file' ? metadata : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Looks for the file a commit whose answer was lost would have written: at its path, or (with
 * autorename) at the first names autorename would pick, up to the first free one. Only a file of
 * the expected size and content hash counts.
 */
export async function findDelivered(client: DropboxApi, commit: Commit, expected: ExpectedFile, signal: AbortSignal): Promise<FileMetadata | undefined> {
  const matches = (file: FileMetadata | undefined): boolean => file?.size === expected.size && file.content_hash === expected.contentHash;
  const file = await fileAt(client, commit.path, signal);
  if (matches(file)) return file;
  if (!commit.autorename || !file) return undefined;
  for (let copy = 1; copy <= maxRenamedCopies; copy += 1) {
    const renamed = await fileAt(client, renamedPath(commit.path, copy), signal);
    if (!renamed || matches(renamed)) return renamed && matches(renamed) ? renamed : undefined;
  }
  return undefined;
}

/** Whether a failed call may have done its work all the same: no answer came, or a 5xx came. */
function mayHaveCommitted(error: unknown): boolean {
  return !(error instanceof DropboxApiError) || error.status >= 500;
}

/**
 * Runs a call that writes the file (`files/upload`, `upload_session/finish`) so that a lost answer
 * never makes a second file: after a failure that may have committed (a dropped connection, a
 * 5xx), the file is looked for first, and the call is sent again only when it is not there.
 */
export async function commitOnce(
  client: DropboxApi,
  commit: Commit,
  expected: ExpectedFile,
  send: () => Promise<FileMetadata>,
  retry: RetrySettings,
  signal: AbortSignal,
): Promise<FileMetadata> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (signal.aborted || !mayHaveCommitted(error)) throw error;
      const delivered = await findDelivered(client, commit, expected, signal);
      if (delivered) return delivered;
      await pauseBeforeRetry(error, attempt, retry, signal);
    }
  }
}

/**
 * Checks the stored file against the content hash of what was sent. A mismatch means the file is
 * not the source: it is deleted (only that revision) and the attempt fails, to be tried again.
 */
export async function verifyStored(client: DropboxApi, stored: FileMetadata, expected: ExpectedFile, signal: AbortSignal): Promise<void> {
  if (stored.content_hash === expected.contentHash && stored.size === expected.size) return;
  try {
    await client.rpc('files/delete_v2', { path: stored.path_lower ?? stored.id, parent_rev: stored.rev }, signal);
  } catch (error) {
    throw new PermanentError(`Dropbox stored a file that differs from the source at ${stored.path_display ?? stored.id}, and it could not be deleted: remove it by hand`, {
      code: 'content_hash_mismatch',
      cause: error,
    });
  }
  throw new TransientError(
    `Dropbox stored ${stored.size} bytes with content hash ${stored.content_hash ?? '(none)'}, but ${expected.size} bytes with ${expected.contentHash} were sent; the file was deleted and will be sent again`,
    { code: 'content_hash_mismatch' },
  );
}
