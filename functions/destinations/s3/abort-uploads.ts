import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, NoSuchUpload, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { S3ResumeState } from './multipart.ts';

/**
 * S3's clock and the function's may differ a little: an upload initiated up to this much before
 * the earlier attempt began still counts as its own.
 */
const clockSkewMilliseconds = 1000;

/**
 * Aborts the multipart uploads of exactly `Key` initiated since `since`: what an earlier attempt
 * made and ended (a crash, its deadline) before it could save the upload's id, so no later attempt
 * could continue or abort it. An upload of the same key begun meanwhile by another writer would be
 * overwritten by this delivery anyway. Without `s3:ListBucketMultipartUploads` on the bucket, or
 * on a store that does not list uploads (NotImplemented), nothing is aborted and the upload waits
 * for the bucket's lifecycle rule: the delivery goes on.
 */
export async function abortUploadsMadeSince(
  client: S3Client,
  target: { readonly Bucket: string | undefined; readonly Key: string | undefined },
  since: Date,
  signal: AbortSignal,
): Promise<void> {
  const earliest = since.getTime() - clockSkewMilliseconds;
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  try {
    for (;;) {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: target.Bucket, Prefix: target.Key, ...markers }), { abortSignal: signal });
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== target.Key || upload.UploadId === undefined || (upload.Initiated?.getTime() ?? 0) < earliest) continue;
        await abortMultipartUpload(client, { ...target, UploadId: upload.UploadId }, signal);
      }
      if (!page.IsTruncated) return;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'AccessDenied' || error.name === 'NotImplemented')) return;
    throw error;
  }
}

/** Aborts a multipart upload an attempt left, so no stored parts outlive a failed delivery. */
export async function abortUpload(client: S3Client, bucket: string, state: S3ResumeState): Promise<void> {
  if (state.uploadId !== undefined) await abortMultipartUpload(client, { Bucket: bucket, Key: state.key, UploadId: state.uploadId });
}

/** Aborts one multipart upload; one already gone (aborted, completed, expired) is no error. */
async function abortMultipartUpload(
  client: S3Client,
  upload: { readonly Bucket: string | undefined; readonly Key: string | undefined; readonly UploadId: string },
  signal?: AbortSignal,
): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand(upload), signal ? { abortSignal: signal } : {});
  } catch (error) {
    if (!(error instanceof NoSuchUpload)) throw error;
  }
}
