import { S3Error, type S3Api } from './s3-api.ts';
import { abortMultipartUpload, pendingUploads, type ObjectTarget } from './s3-operations.ts';
import type { S3ResumeState } from './multipart.ts';

/**
 * S3's clock and the function's may differ a little: an upload initiated up to this much before
 * the earlier attempt began still counts as its own.
 */
const clockSkewMilliseconds = 1000;

/**
 * Aborts the multipart uploads of exactly `key` initiated since `since`: what an earlier attempt
 * made and ended (a crash, its deadline) before it could save the upload's id, so no later attempt
 * could continue or abort it. An upload of the same key begun meanwhile by another writer would be
 * overwritten by this delivery anyway. Without `s3:ListBucketMultipartUploads` on the bucket, or
 * on a store that does not list uploads (NotImplemented), nothing is aborted and the upload waits
 * for the bucket's lifecycle rule: the delivery goes on.
 */
export async function abortUploadsMadeSince(api: S3Api, target: ObjectTarget, since: Date, signal: AbortSignal): Promise<void> {
  const earliest = since.getTime() - clockSkewMilliseconds;
  try {
    for await (const upload of pendingUploads(api, target.bucket, target.key, signal)) {
      if (upload.key !== target.key || !(upload.initiated.getTime() >= earliest)) continue;
      await abortMultipartUpload(api, target, upload.uploadId, signal);
    }
  } catch (error) {
    if (error instanceof S3Error && (error.code === 'AccessDenied' || error.code === 'NotImplemented')) return;
    throw error;
  }
}

/** Aborts a multipart upload an attempt left, so no stored parts outlive a failed delivery. */
export async function abortUpload(api: S3Api, bucket: string, state: S3ResumeState): Promise<void> {
  if (state.uploadId !== undefined) await abortMultipartUpload(api, { bucket, key: state.key }, state.uploadId);
}
