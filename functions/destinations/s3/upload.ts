import type { ProbeCheck, Uploader } from '../../../shared/destination/index.ts';
import { s3ApiFor } from './client.ts';
import { objectUrl, s3Addressing } from './endpoint.ts';
import { classifyS3Error, StreamedPutRefusedError } from './errors.ts';
import { abortUpload } from './abort-uploads.ts';
import { defaultMultipartSettings, streamToS3, type MultipartSettings, type S3ResumeState } from './multipart.ts';
import type { S3Api } from './s3-api.ts';
import { abortMultipartUpload, bucketOwnerId, createMultipartUpload, type ObjectParameters } from './s3-operations.ts';
import { s3ExtraHeaders, type S3Acl, type S3DestinationFields } from './schema.ts';

const allUsers = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
const authenticatedUsers = 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"';

/** The ACL headers of an upload: a canned `x-amz-acl`, or explicit `x-amz-grant-*`. */
type AclHeaders = Record<string, string>;

/**
 * The ACL headers of an upload.
 *
 * With keys the canned ACL goes as asked (default `public-read`, as in the seeds). In bucket-policy
 * mode the object is written with the service's identity, so the bucket owner must be given
 * control: the default is `bucket-owner-full-control` (accepted by every Object Ownership setting);
 * any other ACL becomes explicit grants of full control to the bucket owner plus what the canned
 * ACL grants others. Buckets with ACLs disabled refuse those grants with
 * `AccessControlListNotSupported`, which is reported with what to change.
 */
async function aclHeaders(destination: S3DestinationFields, api: S3Api, signal: AbortSignal): Promise<AclHeaders> {
  const acl: S3Acl | undefined = destination.acl;
  if (acl === 'bucket-default') return {};
  if (!destination.aws_use_policy) return { 'x-amz-acl': acl ?? 'public-read' };
  if (acl === undefined || acl === 'bucket-owner-full-control') return { 'x-amz-acl': 'bucket-owner-full-control' };
  const owner = `id="${await bucketOwnerId(api, destination.bucket, signal)}"`;
  switch (acl) {
    case 'public-read':
    case 'public-read-write':
      return { 'x-amz-grant-full-control': owner, 'x-amz-grant-read': allUsers };
    case 'authenticated-read':
      return { 'x-amz-grant-full-control': owner, 'x-amz-grant-read': authenticatedUsers };
    default:
      return { 'x-amz-grant-full-control': owner };
  }
}

/** `headers` entries by their canonical lower-case name. */
function extraHeader(destination: S3DestinationFields, name: keyof typeof s3ExtraHeaders): string | undefined {
  const entry = Object.entries(destination.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}

function storageClass(destination: S3DestinationFields): string | undefined {
  if (destination.reduced_redundancy) return 'REDUCED_REDUNDANCY';
  return destination.storageclass;
}

/** Headers whose value is set, by name. */
function present(headers: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function objectParameters(destination: S3DestinationFields, key: string, acl: AclHeaders): ObjectParameters {
  const expires = extraHeader(destination, 'expires');
  const metadata = Object.entries(destination.metadata ?? {}).map(([name, value]) => [`x-amz-meta-${name.toLowerCase()}`, value]);
  return {
    bucket: destination.bucket,
    key,
    headers: {
      ...present({
        'content-type': destination.contenttype ?? extraHeader(destination, 'content-type') ?? 'application/octet-stream',
        'content-disposition': destination.contentdisposition ?? extraHeader(destination, 'content-disposition'),
        'cache-control': destination.cachecontrol ?? extraHeader(destination, 'cache-control'),
        'content-encoding': extraHeader(destination, 'content-encoding'),
        'content-language': extraHeader(destination, 'content-language'),
        expires: expires === undefined ? undefined : new Date(expires).toUTCString(),
        'x-amz-storage-class': storageClass(destination),
        'x-amz-server-side-encryption': destination.encryption,
        'x-amz-server-side-encryption-aws-kms-key-id': destination.kms_key_id,
        'x-amz-tagging': destination.tags === undefined ? undefined : new URLSearchParams(destination.tags).toString(),
      }),
      ...Object.fromEntries(metadata),
      ...acl,
    },
  };
}

/** A key no delivery uses: the probe's multipart upload is started there and aborted at once. */
const probeKey = '.upload-destinations-probe';

/**
 * Delivers to Amazon S3 or an S3-compatible store. A multipart upload that fails part-way is
 * continued by the next attempt; the upload is aborted when the delivery finally fails. The
 * request that makes the object is never sent twice blindly: after a lost answer the object is
 * looked for first. A store that refuses a streamed PutObject is sent parts instead, at once for
 * the rest of the process's life.
 */
export function createS3Uploader(settings: MultipartSettings = defaultMultipartSettings): Uploader<S3DestinationFields, S3ResumeState> {
  /** Endpoints (undefined: AWS's own) that refused a streamed PutObject or part in this process. */
  const refusingStreamedPut = new Set<string | undefined>();
  return {
    async upload({ destination, source, signal, network, resume }) {
      const api = s3ApiFor(destination, network);
      const key = destination.filename;
      const acl = await aclHeaders(destination, api, signal);
      const clients = { transfer: api, commit: s3ApiFor(destination, network, { retries: false }) };
      const { endpoint } = s3Addressing(destination);
      const chosen = refusingStreamedPut.has(endpoint) ? { ...settings, streamedPutMaxBytes: 0, streamedParts: false } : settings;
      const stored = await streamToS3(clients, objectParameters(destination, key, acl), source, resume, signal, chosen).catch((error: unknown) => {
        if (error instanceof StreamedPutRefusedError) refusingStreamedPut.add(endpoint);
        throw error;
      });
      return {
        url: objectUrl(destination, key),
        details: {
          key,
          parts: stored.parts,
          ...(stored.etag === undefined ? {} : { etag: stored.etag }),
          ...(stored.resumedAt > 0 ? { resumed_at: stored.resumedAt } : {}),
        },
      };
    },
    ...s3Maintenance,
  };
}

/** What the uploader does besides uploading: classify, discard, probe. */
const s3Maintenance: Omit<Uploader<S3DestinationFields, S3ResumeState>, 'upload'> = {
  classify: classifyS3Error,
  async discard({ destination, state, network }) {
    await abortUpload(s3ApiFor(destination, network), destination.bucket, state);
  },
  /**
   * Starts a multipart upload with the headers a delivery would send (credentials, bucket, ACL and
   * ownership rules are all checked there) and aborts it: nothing is written.
   */
  async probe({ destination, signal, network }): Promise<ProbeCheck[]> {
    const api = s3ApiFor(destination, network);
    try {
      const acl = await aclHeaders(destination, api, signal);
      const uploadId = await createMultipartUpload(api, objectParameters(destination, probeKey, acl), signal);
      await abortMultipartUpload(api, { bucket: destination.bucket, key: probeKey }, uploadId, signal);
      return [{ name: 'write', ok: true, detail: `may write to s3://${destination.bucket}/ (a multipart upload was started and aborted; nothing written)` }];
    } catch (error) {
      return [{ name: 'write', ok: false, detail: classifyS3Error(error).message }];
    }
  },
};

export const s3Uploader = createS3Uploader();
