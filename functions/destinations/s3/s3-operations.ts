import { escapeXml, xmlElements, xmlText } from '../../../shared/destination/index.ts';
import { S3Error, type S3Api, type S3Answer, type StreamedBody } from './s3-api.ts';

/** An object of a bucket (a version of it, where the store keeps versions and one is named). */
export interface ObjectTarget {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
}

/** An object to write: where, and the headers it is written with (type, metadata, ACL, storage class, encryption, tags…). */
export interface ObjectParameters extends ObjectTarget {
  readonly headers: Readonly<Record<string, string>>;
}

/** What the store answers for a written object. */
export interface WrittenObject {
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  /** The CRC-32 the store checked and kept (base64), when it says. */
  readonly crc32: string | undefined;
}

/** A part of a multipart upload, as CompleteMultipartUpload names it. */
export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string | undefined;
  readonly crc32: string | undefined;
}

/** A part a multipart upload holds. */
export interface StoredPart extends CompletedPart {
  readonly size: number;
}

/** A multipart upload begun and not yet completed or aborted. */
export interface PendingUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** What HeadObject tells of an object. */
export interface ObjectHead {
  readonly size: number;
  readonly lastModified: Date;
  readonly etag: string | undefined;
}

function header(answer: S3Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function writtenObject(answer: S3Answer): WrittenObject {
  return { etag: header(answer, 'etag'), versionId: header(answer, 'x-amz-version-id'), crc32: header(answer, 'x-amz-checksum-crc32') };
}

function versionQuery(target: ObjectTarget): Record<string, string> {
  return target.versionId === undefined ? {} : { versionId: target.versionId };
}

/** PutObject of bytes in hand, with their CRC-32 (base64) for the store to check. */
export async function putObject(api: S3Api, object: ObjectParameters, bytes: Uint8Array, crc32: string, signal: AbortSignal): Promise<WrittenObject> {
  const headers = { ...object.headers, 'x-amz-checksum-crc32': crc32 };
  return writtenObject(await api.send({ method: 'PUT', bucket: object.bucket, key: object.key, headers, body: bytes, signal }));
}

/** PutObject of a body sent as it is read (its headers say how it is framed). */
export async function putStreamedObject(api: S3Api, object: ObjectParameters, body: StreamedBody, signal: AbortSignal): Promise<WrittenObject> {
  return writtenObject(await api.send({ method: 'PUT', bucket: object.bucket, key: object.key, headers: object.headers, body, signal }));
}

/** CreateMultipartUpload, each part to carry a CRC-32; the upload's id. */
export async function createMultipartUpload(api: S3Api, object: ObjectParameters, signal: AbortSignal): Promise<string> {
  const answer = await api.send({
    method: 'POST',
    bucket: object.bucket,
    key: object.key,
    query: { uploads: '' },
    headers: { ...object.headers, 'x-amz-checksum-algorithm': 'CRC32' },
    signal,
  });
  const uploadId = xmlText(answer.body, 'UploadId');
  if (!uploadId) throw new Error(`S3 CreateMultipartUpload of ${object.bucket}/${object.key}: the store answered no UploadId`);
  return uploadId;
}

/** UploadPart with its CRC-32 (base64); the part's ETag. */
export async function uploadPart(
  api: S3Api,
  target: ObjectTarget,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array,
  crc32: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const answer = await api.send({
    method: 'PUT',
    bucket: target.bucket,
    key: target.key,
    query: { partNumber: String(partNumber), uploadId },
    headers: { 'x-amz-checksum-crc32': crc32 },
    body: bytes,
    signal,
  });
  return header(answer, 'etag');
}

/**
 * UploadPart of a body sent as it is read, framed as aws-chunked with its CRC-32 in a trailer; the
 * part's ETag, and the CRC-32 the store checked (which it echoes when it read the trailer).
 */
export async function uploadStreamedPart(
  api: S3Api,
  target: ObjectTarget,
  uploadId: string,
  partNumber: number,
  body: StreamedBody,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<WrittenObject> {
  return writtenObject(await api.send({ method: 'PUT', bucket: target.bucket, key: target.key, query: { partNumber: String(partNumber), uploadId }, headers, body, signal }));
}

/** CompleteMultipartUpload of `parts`, in order; the object's ETag. */
export async function completeMultipartUpload(
  api: S3Api,
  target: ObjectTarget,
  uploadId: string,
  parts: readonly CompletedPart[],
  signal: AbortSignal,
): Promise<string | undefined> {
  const body = [
    '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    ...parts.map(
      (part) =>
        `<Part><PartNumber>${part.partNumber}</PartNumber>${part.etag === undefined ? '' : `<ETag>${escapeXml(part.etag)}</ETag>`}` +
        `${part.crc32 === undefined ? '' : `<ChecksumCRC32>${escapeXml(part.crc32)}</ChecksumCRC32>`}</Part>`,
    ),
    '</CompleteMultipartUpload>',
  ].join('');
  const answer = await api.send({
    method: 'POST',
    bucket: target.bucket,
    key: target.key,
    query: { uploadId },
    headers: { 'content-type': 'application/xml' },
    body,
    signal,
  });
  return xmlText(answer.body, 'ETag');
}

/** Every part the multipart upload holds (ListParts, page by page); undefined when it is gone (completed, aborted or expired). */
export async function listParts(api: S3Api, target: ObjectTarget, uploadId: string, signal: AbortSignal): Promise<StoredPart[] | undefined> {
  const parts: StoredPart[] = [];
  let marker: string | undefined;
  try {
    do {
      const answer = await api.send({
        method: 'GET',
        bucket: target.bucket,
        key: target.key,
        query: { uploadId, ...(marker === undefined ? {} : { 'part-number-marker': marker }) },
        signal,
      });
      for (const part of xmlElements(answer.body, 'Part')) {
        parts.push({
          partNumber: Number(xmlText(part, 'PartNumber')),
          etag: xmlText(part, 'ETag'),
          crc32: xmlText(part, 'ChecksumCRC32'),
          size: Number(xmlText(part, 'Size')),
        });
      }
      marker = xmlText(answer.body, 'IsTruncated') === 'true' ? xmlText(answer.body, 'NextPartNumberMarker') : undefined;
    } while (marker !== undefined);
  } catch (error) {
    if (error instanceof S3Error && error.code === 'NoSuchUpload') return undefined;
    throw error;
  }
  return parts;
}

/** The multipart uploads of keys that begin with `prefix` (ListMultipartUploads), page by page. */
export async function* pendingUploads(api: S3Api, bucket: string, prefix: string, signal: AbortSignal): AsyncGenerator<PendingUpload> {
  let markers: Record<string, string> = {};
  for (;;) {
    const answer = await api.send({ method: 'GET', bucket, query: { uploads: '', prefix, ...markers }, signal });
    for (const upload of xmlElements(answer.body, 'Upload')) {
      const key = xmlText(upload, 'Key');
      const uploadId = xmlText(upload, 'UploadId');
      if (key !== undefined && uploadId) yield { key, uploadId, initiated: new Date(xmlText(upload, 'Initiated') ?? 0) };
    }
    if (xmlText(answer.body, 'IsTruncated') !== 'true') return;
    markers = { 'key-marker': xmlText(answer.body, 'NextKeyMarker') ?? '', 'upload-id-marker': xmlText(answer.body, 'NextUploadIdMarker') ?? '' };
  }
}

/** AbortMultipartUpload; an upload already gone (aborted, completed, expired) is no error. */
export async function abortMultipartUpload(api: S3Api, target: ObjectTarget, uploadId: string, signal?: AbortSignal): Promise<void> {
  try {
    await api.send({ method: 'DELETE', bucket: target.bucket, key: target.key, query: { uploadId }, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof S3Error && error.code === 'NoSuchUpload')) throw error;
  }
}

/** HeadObject; undefined when there is no such object. */
export async function headObject(api: S3Api, target: ObjectTarget, signal: AbortSignal): Promise<ObjectHead | undefined> {
  let answer: S3Answer;
  try {
    answer = await api.send({ method: 'HEAD', bucket: target.bucket, key: target.key, query: versionQuery(target), signal });
  } catch (error) {
    if (error instanceof S3Error && error.statusCode === 404) return undefined;
    throw error;
  }
  const modified = header(answer, 'last-modified');
  return { size: Number(header(answer, 'content-length') ?? Number.NaN), lastModified: new Date(modified ?? 0), etag: header(answer, 'etag') };
}

/** DeleteObject (of the version named, when one is). */
export async function deleteObject(api: S3Api, target: ObjectTarget, signal: AbortSignal): Promise<void> {
  await api.send({ method: 'DELETE', bucket: target.bucket, key: target.key, query: versionQuery(target), signal });
}

/** The canonical user ID of the bucket's owner (GetBucketAcl). */
export async function bucketOwnerId(api: S3Api, bucket: string, signal: AbortSignal): Promise<string> {
  const answer = await api.send({ method: 'GET', bucket, query: { acl: '' }, signal });
  const [owner = ''] = xmlElements(answer.body, 'Owner');
  return xmlText(owner, 'ID') ?? '';
}
