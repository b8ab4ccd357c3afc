import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { stagingPrefixes, stagingSuffixes } from '../../shared/config.ts';
import { maxRequestBodyBytes } from '../../shared/contract/limits.ts';
import { ValidationError } from '../../shared/errors.ts';
import { withCorrelationId } from '../../shared/lambda/logger.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { acceptOrRecordRejection, enqueue, presignedUploadPrefix } from './accept.ts';
import type { IngressDependencies } from './dependencies.ts';
import { bodyText, requestIn, UnreadableBodyError } from './request-body.ts';

/** Files dropped under this prefix are delivered as their side-car manifest says. */
export const dropPrefix = stagingPrefixes.drop;
/** `drop/clip.mp4.upload.json` holds the request (without `source`) for `drop/clip.mp4`. */
export const manifestSuffix = stagingSuffixes.manifest;
/** The door writes the job it made beside the file, so the sender can find it. */
export const jobNoteSuffix = stagingSuffixes.jobNote;

/** A manifest that is not a request: too large to read, so never read. */
const tooLarge = Symbol('too large');

/** One ObjectCreated notification, its key decoded as S3 encodes it (`+` for space). */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
}

export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** A presigned upload has landed: queue the job that was waiting for it. */
async function presignedUploadLanded(key: string, dependencies: IngressDependencies): Promise<void> {
  const token = key.slice(presignedUploadPrefix.length).split('/')[0] ?? '';
  const job = await dependencies.jobs.get(token);
  if (!job || !('key' in job.source) || job.source.key !== key) {
    dependencies.log.warn('upload landed for no waiting job; ignored', { key });
    return;
  }
  if (job.enqueued) return;
  await enqueue(job, dependencies);
  withCorrelationId(dependencies.log, token).info('presigned upload landed; job queued', { token });
}

/**
 * The manifest's bytes, decoded where a refusal is recorded (see {@link bodyText}): as text they
 * would be read as U+FFFD wherever they are not UTF-8.
 */
async function readManifest(bucket: string, key: string, dependencies: IngressDependencies): Promise<Buffer | typeof tooLarge | undefined> {
  const object = await dependencies.staging.request({ method: 'GET', object: { bucket, key } });
  if (object === undefined) return undefined;
  if (Number(object.headers['content-length'] ?? 0) > maxRequestBodyBytes) {
    object.destroy();
    return tooLarge;
  }
  return buffer(object);
}

async function etagOf(bucket: string, key: string, dependencies: IngressDependencies): Promise<string | undefined> {
  const object = await dependencies.staging.request({ method: 'HEAD', object: { bucket, key } });
  object?.resume();
  return object === undefined ? undefined : (object.headers.etag ?? '');
}

/**
 * A file and its manifest are both in the drop folder (whichever landed second triggers this):
 * accept the manifest's request with the file as its source. The token is derived from the file's
 * key and ETag, so both notifications, and any redelivery, make one job; a manifest that fails
 * validation becomes a rejected job with the reasons. Either way `<file>.upload-job.json` tells the
 * sender the token and state.
 */
async function dropped(bucket: string, key: string, dependencies: IngressDependencies): Promise<void> {
  const fileKey = key.endsWith(manifestSuffix) ? key.slice(0, -manifestSuffix.length) : key;
  const [etag, manifest] = await Promise.all([
    etagOf(bucket, fileKey, dependencies),
    readManifest(bucket, `${fileKey}${manifestSuffix}`, dependencies),
  ]);
  if (etag === undefined || manifest === undefined) return;
  const token = `s3-${createHash('sha256').update(`${bucket}/${fileKey}#${etag}`).digest('base64url').slice(0, 24)}`;
  const outcome = await acceptOrRecordRejection(
    () => {
      if (manifest === tooLarge) throw UnreadableBodyError.tooLarge('manifest');
      const request = requestIn(bodyText(manifest, 'manifest'), 'manifest');
      if ('source' in request) throw new ValidationError([{ path: 'source', message: 'is set by the dropped file; leave it out of the manifest' }]);
      return { ...request, source: { bucket, key: fileKey } };
    },
    { origin: 's3', token, idempotencyKey: token },
    dependencies,
  );
  // A manifest repeating an earlier request's idempotency key is that job's, as the API would answer.
  const job = await dependencies.jobs.get(outcome.token);
  const note = job ? jobView(job) : { token: outcome.token };
  const noted = await dependencies.staging.request({
    method: 'PUT',
    object: { bucket, key: `${fileKey}${jobNoteSuffix}` },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(note, null, 2),
  });
  noted?.resume();
  // The job holds the request now, its secrets sealed; the manifest may hold them in clear.
  (await dependencies.staging.request({ method: 'DELETE', object: { bucket, key: `${fileKey}${manifestSuffix}` } }))?.resume();
  withCorrelationId(dependencies.log, outcome.token).info('dropped file handled', { token: outcome.token, rejected: outcome.errors !== undefined });
}

/** The staging-bucket door: presigned uploads landing, and files dropped with a manifest. */
export async function handleObjectCreated(object: CreatedObject, dependencies: IngressDependencies): Promise<void> {
  if (object.bucket !== dependencies.stagingBucket) return;
  if (object.key.startsWith(presignedUploadPrefix)) return presignedUploadLanded(object.key, dependencies);
  if (object.key.startsWith(dropPrefix) && !object.key.endsWith(jobNoteSuffix)) return dropped(object.bucket, object.key, dependencies);
}
