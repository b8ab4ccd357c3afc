import { classifyS3Error } from './errors.ts';
import { S3Error, type S3Api } from './s3-api.ts';
import { headObject, type ObjectTarget } from './s3-operations.ts';

/** Tries of a request that makes the object, when its body can be sent again. */
const defaultTries = 3;
/** Clocks of the store and the function may differ by this much (S3's times have whole seconds). */
const clockSlackMilliseconds = 5000;

/**
 * Whether a failed request may have been carried out all the same: no answer came (a dropped
 * connection, a timeout) or the store failed on its side (5xx) after receiving it.
 */
function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof S3Error) || error.statusCode >= 500;
}

/**
 * The ETag of the object under `target` when it has `size` bytes and was written at or after
 * `since`: what a write whose answer was lost would have left. Undefined when no such object is there.
 */
export async function objectWrittenSince(api: S3Api, target: ObjectTarget, size: number, since: Date, signal: AbortSignal): Promise<string | undefined> {
  const head = await headObject(api, { bucket: target.bucket, key: target.key }, signal);
  if (head === undefined) return undefined;
  return head.size === size && head.lastModified.getTime() >= since.getTime() - clockSlackMilliseconds ? (head.etag ?? '') : undefined;
}

/**
 * Sends a request that makes the object (PutObject, CompleteMultipartUpload) so that it takes
 * effect once: when it fails in a way that may have been carried out anyway (no answer, a 5xx), the
 * object is looked for (`landed`) before the request goes again; other transient failures are
 * simply tried again, up to `tries` in all (1 for a body streamed from the source, which is read
 * once per attempt: the next attempt looks first). Answers what `write` answers, or what `landed` found.
 */
export async function writeOnce<T>(write: () => Promise<T>, landed: () => Promise<T | undefined>, signal: AbortSignal, tries = defaultTries): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (signal.aborted || !classifyS3Error(error).retryable) throw error;
      if (outcomeUnknown(error)) {
        const found = await landed();
        if (found !== undefined) return found;
      }
      if (attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
    }
  }
}
