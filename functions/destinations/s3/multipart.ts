import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BuildMiddleware } from '@smithy/types';
import { crc32Combine, forEachConcurrently, type DeliverySource, type ResumeSlot, type SourcePart, type SourceStart } from '../../../shared/destination/index.ts';
import { abortUploadsMadeSince } from './abort-uploads.ts';
import { AwsChunkedCrc32, awsChunkedLength, crc32TrailerName } from './aws-chunked.ts';
import { AwsChunkedNotDecodedError, refusesStreamedUpload, StreamedPutRefusedError } from './errors.ts';
import { objectWrittenSince, storedObject, writeOnce } from './write-once.ts';

const MiB = 1024 * 1024;
const maxParts = 10_000;
const minPartSize = 5 * MiB;
const maxPartSize = 5 * 1024 * MiB;

/** How parts are cut and sent; the defaults keep memory near `maxBytesInFlight` for any file size. */
export interface MultipartSettings {
  /** Smallest part; larger files get larger parts so they fit in 10,000. @default 8 MiB */
  readonly partSize: number;
  /** Parts in flight at most. @default 4 */
  readonly concurrency: number;
  /** Bytes held in parts in flight at most; bounds memory when parts must be large. @default 32 MiB */
  readonly maxBytesInFlight: number;
  /**
   * Largest file of known size sent as one PutObject streamed from the source, its CRC-32 in an
   * aws-chunked trailer (nothing buffered, nothing hashed but the CRC); larger files go in parts,
   * and so does a file of one part (sent as one PutObject of its bytes). 0 sends every file in
   * parts. test/bench/README.md shows where the switch pays. @default 256 MiB
   */
  readonly streamedPutMaxBytes: number;
}

/**
 * Measured with `npm run bench` (1 GiB): 8 MiB × 4 in flight is as fast as 8 or more, and larger
 * parts are slower; fewer parts in flight keep memory flat and small, most of all over TLS.
 */
export const defaultMultipartSettings: MultipartSettings = {
  partSize: 8 * MiB,
  concurrency: 4,
  maxBytesInFlight: 32 * MiB,
  streamedPutMaxBytes: 256 * MiB,
};

/**
 * The size of part `index`. With a known size every part is equal and 10,000 of them cover the
 * file. With an unknown size the parts double every 1,000, which reaches past 8 TiB.
 */
export function partSizer(size: number | undefined, settings: Pick<MultipartSettings, 'partSize'>): (index: number) => number {
  const base = Math.max(settings.partSize, minPartSize);
  if (size !== undefined) {
    const fitted = Math.max(base, Math.ceil(size / maxParts / MiB) * MiB);
    return () => Math.min(fitted, maxPartSize);
  }
  return (index) => Math.min(base * 2 ** Math.floor(index / 1000), maxPartSize);
}

/**
 * What a later attempt needs: the multipart upload to continue (its id, and the key it was for),
 * and when the request that makes the object went (a single PutObject has no upload id).
 */
export interface S3ResumeState {
  readonly uploadId?: string;
  readonly key: string;
  /**
   * When CompleteMultipartUpload went (ISO 8601): the object may have been made by an attempt
   * whose answer was lost (or that was cut off), which an object of the file's size written since
   * then shows. A single PutObject saves nothing: the next attempt looks since the first began.
   */
  readonly completingAt?: string;
  /** The store refused the streamed PutObject (it does not speak aws-chunked): send parts. */
  readonly inParts?: true;
}

/** The clients an upload sends with: one that retries, and one that never sends a request twice by itself. */
export interface S3Clients {
  /** Everything but the requests that make the object: the SDK retries them as it will. */
  readonly transfer: S3Client;
  /** PutObject and CompleteMultipartUpload: sent again only once the object is known not to be there. */
  readonly commit: S3Client;
}

export interface StreamedObject {
  readonly etag: string | undefined;
  readonly parts: number;
  /** Bytes an earlier attempt had already stored. */
  readonly resumedAt: number;
}

/** The object's parameters except its body: bucket, key, headers, ACL, storage class, tags… */
export type ObjectParameters = Omit<PutObjectCommandInput, 'Body' | 'ContentLength' | 'ChecksumCRC32' | 'ChecksumAlgorithm'>;

function crcOf(base64: string | undefined): number | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').readUInt32BE(0);
}

/**
 * The parts an earlier attempt stored, in order from the first, as long as each is the size this
 * upload cuts (a gap or an odd part ends them: what follows is sent again). Undefined when the
 * upload no longer exists (completed, aborted or expired).
 */
async function storedParts(
  client: S3Client,
  target: { Bucket: string | undefined; Key: string | undefined; UploadId: string },
  sizeOf: (index: number) => number,
  signal: AbortSignal,
): Promise<{ completed: CompletedPart[]; start: SourceStart } | undefined> {
  const stored = new Map<number, { ETag?: string; ChecksumCRC32?: string; Size?: number }>();
  try {
    let marker: string | undefined;
    do {
      const page = await client.send(new ListPartsCommand({ ...target, PartNumberMarker: marker }), { abortSignal: signal });
      for (const part of page.Parts ?? []) if (part.PartNumber !== undefined) stored.set(part.PartNumber, part);
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
  } catch (error) {
    if (error instanceof NoSuchUpload) return undefined;
    throw error;
  }
  const completed: CompletedPart[] = [];
  let offset = 0;
  let crc: number | undefined = 0;
  for (let number = 1; ; number += 1) {
    const part = stored.get(number);
    if (!part || part.Size !== sizeOf(number - 1)) break;
    completed.push({ PartNumber: number, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
    const partCrc = crcOf(part.ChecksumCRC32);
    crc = crc === undefined || partCrc === undefined ? undefined : offset === 0 ? partCrc : crc32Combine(crc, partCrc, part.Size);
    offset += part.Size;
  }
  return { completed, start: crc === undefined || offset === 0 ? { offset } : { offset, crc32: crc } };
}

/**
 * Streams the source into one object. A file that fits in one part is a single PutObject of that
 * part; a larger one of known size up to `streamedPutMaxBytes`, on a delivery's first attempt, one
 * PutObject streamed from the source (its CRC-32 in a trailer); anything else (and a retry, or a
 * store that refuses the streamed PutObject) a multipart upload whose parts each carry a CRC-32 the
 * store verifies. The upload's id is saved as soon as it exists, so when this attempt fails a later one lists the parts already
 * stored and sends only the rest; the upload is aborted by `abortUpload` when the delivery
 * finally fails, so no parts outlive it.
 */
export async function streamToS3(
  clients: S3Clients,
  parameters: ObjectParameters,
  source: DeliverySource,
  resume: ResumeSlot<S3ResumeState>,
  signal: AbortSignal,
  settings: MultipartSettings = defaultMultipartSettings,
): Promise<StreamedObject> {
  const client = clients.transfer;
  const sizeOf = partSizer(source.size, settings);
  const earlier = resume.state?.key === parameters.Key ? resume.state : undefined;
  const target = { Bucket: parameters.Bucket, Key: parameters.Key };
  const continued = earlier?.uploadId ? await storedParts(client, { ...target, UploadId: earlier.uploadId }, sizeOf, signal) : undefined;
  const madeSince = earlier?.completingAt !== undefined ? new Date(earlier.completingAt) : earlier?.uploadId === undefined ? resume.earlierAttemptsSince : undefined;
  if (madeSince !== undefined && !continued && source.size !== undefined) {
    // An earlier attempt began completing its multipart upload, which is gone, or (with nothing
    // saved) may have sent its single PutObject: if the request was carried out, the object is
    // there, and sending the file again would write it twice.
    const etag = await objectWrittenSince(client, target, source.size, madeSince, signal);
    if (etag !== undefined) return { etag, parts: Math.ceil(source.size / sizeOf(0)), resumedAt: source.size };
  }

  let uploadId: string;
  let completed: CompletedPart[];
  let parts: AsyncGenerator<SourcePart>;
  // Only a first attempt streams: one that came after a failure (a slow or broken link, a function
  // timeout) sends parts, which a further attempt continues instead of sending the file again.
  const firstAttempt = resume.earlierAttemptsSince === undefined && !earlier?.inParts;
  if (firstAttempt && !continued && source.size !== undefined && source.size > sizeOf(0) && source.size <= settings.streamedPutMaxBytes) {
    try {
      const etag = await putOnce(clients, parameters, { source, size: source.size }, signal);
      return { etag, parts: 1, resumedAt: 0 };
    } catch (error) {
      if (!refusesStreamedUpload(error)) throw error;
      await resume.save({ key: parameters.Key ?? '', inParts: true });
      throw new StreamedPutRefusedError(error);
    }
  }
  if (earlier?.uploadId && continued) {
    uploadId = earlier.uploadId;
    completed = continued.completed;
    parts = source.parts((index) => sizeOf(completed.length + index), continued.start);
  } else {
    parts = source.parts(sizeOf);
    const first = await parts.next();
    if (first.done) throw new Error('the source yields at least one part, if empty');
    const firstPart = first.value;
    if (firstPart.bytes.length < sizeOf(0) || firstPart.bytes.length === source.size) {
      // One part holds the whole file (shorter than a part, or exactly the known size): a single
      // request, nothing to resume. Reading on to the end first runs the source's size check
      // before anything is sent.
      await parts.next();
      const etag = await putOnce(clients, parameters, { bytes: firstPart.bytes, crc32: firstPart.crc32 }, signal);
      return { etag, parts: 1, resumedAt: 0 };
    }
    // An earlier attempt that saved no upload id may have ended right after creating one.
    if (earlier?.uploadId === undefined && resume.earlierAttemptsSince !== undefined) await abortUploadsMadeSince(client, target, resume.earlierAttemptsSince, signal);
    const created = await client.send(new CreateMultipartUploadCommand({ ...parameters, ChecksumAlgorithm: 'CRC32' }), { abortSignal: signal });
    uploadId = created.UploadId ?? '';
    await resume.save({ uploadId, key: parameters.Key ?? '' });
    completed = [];
    const remaining = parts;
    parts = (async function* () {
      yield firstPart;
      yield* remaining;
    })();
  }

  const resumedAt = continued?.start.offset ?? 0;
  let size = resumedAt;
  const firstNumber = completed.length + 1;
  const sent = await forEachConcurrently<SourcePart, CompletedPart>(
    parts,
    (part) => Math.max(1, Math.min(settings.concurrency, Math.floor(settings.maxBytesInFlight / Math.max(1, part.bytes.length)))),
    async (part, index) => {
      try {
        const answer = await client.send(
          new UploadPartCommand({
            ...target,
            UploadId: uploadId,
            PartNumber: firstNumber + index,
            Body: part.bytes,
            ContentLength: part.bytes.length,
            ChecksumCRC32: part.crc32,
          }),
          { abortSignal: signal },
        );
        size += part.bytes.length;
        return { PartNumber: firstNumber + index, ETag: answer.ETag, ChecksumCRC32: part.crc32 };
      } finally {
        part.release();
      }
    },
  );
  const all = [...completed, ...sent.filter((part) => part.PartNumber !== undefined)];
  const completingAt = new Date();
  await resume.save({ uploadId, key: parameters.Key ?? '', completingAt: completingAt.toISOString() });
  const etag = await writeOnce(
    async () =>
      (await clients.commit.send(new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: all } }), { abortSignal: signal })).ETag,
    () => objectWrittenSince(client, target, size, completingAt, signal),
    signal,
  );
  return { etag, parts: all.length, resumedAt };
}

/** A whole object's body: bytes already read (their CRC-32 known), or the source, of a known size, to stream. */
type ObjectBody = { readonly bytes: Uint8Array; readonly crc32: string } | { readonly source: DeliverySource; readonly size: number };

/** Request headers of a body framed by {@link AwsChunkedCrc32}, set before signing. */
function trailerHeaders(size: number): BuildMiddleware<PutObjectCommandInput, PutObjectCommandOutput> {
  return (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) {
      request.headers['x-amz-content-sha256'] = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
      request.headers['x-amz-decoded-content-length'] = String(size);
      request.headers['x-amz-trailer'] = crc32TrailerName;
      request.headers['x-amz-sdk-checksum-algorithm'] = 'CRC32';
    }
    return next(args);
  };
}

/** A body read from a stream, framed as aws-chunked, and a signal that fires with the reason reading it failed. */
interface FramedBody {
  readonly framed: AwsChunkedCrc32;
  readonly broken: AbortSignal;
}

/** Frames the source read as a stream; a source that breaks, or ends short or long, fails it before its final chunk. */
async function framedBody(body: { readonly source: DeliverySource; readonly size: number }): Promise<FramedBody> {
  const stream = await body.source.stream();
  const framed = new AwsChunkedCrc32(body.size, () => body.source.checksum?.value);
  const broken = new AbortController();
  stream.once('error', (error) => framed.destroy(error));
  framed.once('error', (error) => broken.abort(error));
  stream.pipe(framed);
  return { framed, broken: broken.signal };
}

function putCommand(parameters: ObjectParameters, body: { readonly bytes: Uint8Array; readonly crc32: string } | { readonly framed: AwsChunkedCrc32; readonly size: number }): PutObjectCommand {
  if ('bytes' in body) {
    return new PutObjectCommand({ ...parameters, Body: body.bytes, ContentLength: body.bytes.length, ChecksumAlgorithm: 'CRC32', ChecksumCRC32: body.crc32 });
  }
  const command = new PutObjectCommand({
    ...parameters,
    Body: body.framed,
    ContentLength: awsChunkedLength(body.size),
    ContentEncoding: parameters.ContentEncoding === undefined ? 'aws-chunked' : `aws-chunked,${parameters.ContentEncoding}`,
  });
  // After the client's own build steps (which mark a payload over TLS unsigned), before signing.
  command.middlewareStack.add(trailerHeaders(body.size), { step: 'build', name: 'awsChunkedCrc32Trailer', priority: 'low' });
  return command;
}

/**
 * Sends the whole object in one PutObject, once: should this attempt end before the answer comes
 * (its deadline, a crash), the next one looks for the object written since the first attempt began
 * before sending it again. Bytes already read may be sent again within this attempt; a stream is
 * read once, so after a failure the next attempt looks and sends.
 */
async function putOnce(clients: S3Clients, parameters: ObjectParameters, body: ObjectBody, signal: AbortSignal): Promise<string | undefined> {
  const size = 'bytes' in body ? body.bytes.length : body.size;
  const target = { Bucket: parameters.Bucket, Key: parameters.Key };
  // Nothing is saved before it goes (a job-table write for every small file): should this attempt
  // end without its answer, the next one looks for the object since the first attempt began.
  const sentAt = new Date();
  const landed = (): Promise<string | undefined> => objectWrittenSince(clients.transfer, target, size, sentAt, signal);
  if ('bytes' in body) {
    return writeOnce(async () => (await clients.commit.send(putCommand(parameters, body), { abortSignal: signal })).ETag, landed, signal);
  }
  // The SDK pipes the body into the request and would wait for the rest of a body that broke:
  // the request ends with it, and the failure is the body's.
  const { framed, broken } = await framedBody(body);
  let answer: PutObjectCommandOutput | undefined;
  let etag: string | undefined;
  try {
    etag = await writeOnce(
      async () => {
        answer = await clients.commit.send(putCommand(parameters, { framed, size }), { abortSignal: AbortSignal.any([signal, broken]) });
        return answer.ETag;
      },
      landed,
      signal,
      1,
    );
  } catch (error) {
    throw broken.aborted ? broken.reason : error;
  }
  // An object found after a lost answer was already checked for its size.
  if (answer !== undefined) await expectDecoded(clients.transfer, { ...target, VersionId: answer.VersionId }, size, answer.ChecksumCRC32, body.source.checksum?.value, signal);
  return etag;
}

/**
 * Checks that the store decoded the streamed PutObject's aws-chunked body, which some stores that
 * speak S3 take as it comes and keep, framing and all, answering 200. S3 (and a store that reads
 * the trailer) echoes the CRC-32 it checked; without that echo, the object's length tells, since
 * the framing adds bytes. An object that is not the file is deleted (this version only, when the
 * bucket keeps versions) and the delivery goes again in parts.
 */
async function expectDecoded(
  client: S3Client,
  written: { readonly Bucket: string | undefined; readonly Key: string | undefined; readonly VersionId: string | undefined },
  size: number,
  echoed: string | undefined,
  sent: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (echoed !== undefined && echoed === sent) return;
  let found = `the store answered CRC-32 ${echoed} for ${sent}`;
  if (echoed === undefined) {
    // Credentials that may write but not read (403), or a store that does not show the object at
    // once (none there), leave nothing to compare: the store's 200 stands.
    const head = await storedObject(client, written, signal).catch((error: unknown) => {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403) return undefined;
      throw error;
    });
    if (head === undefined || head.ContentLength === size) return;
    found = `${head.ContentLength} bytes stored for ${size}`;
  }
  // Best effort: the parts that follow overwrite the object should the store not let it be deleted.
  await client.send(new DeleteObjectCommand(written), { abortSignal: signal }).catch(() => undefined);
  throw new AwsChunkedNotDecodedError(found);
}
