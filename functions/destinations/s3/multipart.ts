import type { Readable } from 'node:stream';
import { crc32Combine, feed, forEachConcurrently, withAwsRetries, type DeliverySource, type ResumeSlot, type SourcePart, type SourceRange, type SourceStart } from '../../../shared/destination/index.ts';
import { abortUploadsMadeSince } from './abort-uploads.ts';
import { AwsChunkedCrc32, awsChunkedLength, crc32TrailerName } from './aws-chunked.ts';
import { AwsChunkedNotDecodedError, refusesStreamedUpload, StreamedPutRefusedError } from './errors.ts';
import { S3Error, worthAnotherTry, type S3Api, type StreamedBody } from './s3-api.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  deleteObject,
  headObject,
  listParts,
  putObject,
  putStreamedObject,
  uploadPart,
  uploadStreamedPart,
  type CompletedPart,
  type ObjectParameters,
  type ObjectTarget,
  type WrittenObject,
} from './s3-operations.ts';
import { objectWrittenSince, writeOnce } from './write-once.ts';

const MiB = 1024 * 1024;
const maxParts = 10_000;
const minPartSize = 5 * MiB;
const maxPartSize = 5 * 1024 * MiB;

/** How parts are cut and sent; the defaults keep memory flat whatever the file's size. */
export interface MultipartSettings {
  /**
   * Smallest part held from one read of the source (larger files get larger parts so they fit in
   * 10,000); where parts are sent, a file of one part goes as one PutObject of its bytes. @default 8 MiB
   */
  readonly partSize: number;
  /** Smallest part read from the source by itself (`streamedParts`), fitted the same way. @default 16 MiB */
  readonly streamedPartSize: number;
  /** Parts in flight at most. @default 4 */
  readonly concurrency: number;
  /** Bytes held in parts in flight at most, when parts are held; bounds memory when parts must be large. @default 32 MiB */
  readonly maxBytesInFlight: number;
  /**
   * Largest file of known size sent as one PutObject streamed from the source, its CRC-32 in an
   * aws-chunked trailer (nothing buffered, nothing hashed but the CRC); larger files go in parts.
   * 0 sends every file in parts. test/bench/README.md shows where the switch pays. @default 256 MiB
   */
  readonly streamedPutMaxBytes: number;
  /**
   * Largest file sent as one PutObject of its bytes, read whole first (sent again at once should
   * its answer be lost, signed over plain HTTP) rather than streamed. @default 8 MiB
   */
  readonly streamedPutMinBytes: number;
  /**
   * Whether parts are read from the source each by itself (a ranged read per part, when the source
   * allows) and sent as they are read, aws-chunked with a CRC-32 trailer: nothing is held, so
   * memory does not grow with the parts in flight. Otherwise parts are cut from one read of the
   * source and held while they are sent. @default true
   */
  readonly streamedParts: boolean;
}

/**
 * Measured with `npm run bench` (1 GiB, test/bench/README.md): parts read by themselves are faster
 * than held ones over HTTP (no payload to hash) and as fast over HTTPS, at less memory; 8 MiB × 4
 * held parts were as fast as 8 or more in flight. Parts read by themselves hold nothing whatever
 * their size, and 16 MiB ones were faster than 8 MiB at less CPU (each part costs its requests).
 */
export const defaultMultipartSettings: MultipartSettings = {
  partSize: 8 * MiB,
  streamedPartSize: 16 * MiB,
  concurrency: 4,
  maxBytesInFlight: 32 * MiB,
  streamedPutMaxBytes: 256 * MiB,
  streamedPutMinBytes: 8 * MiB,
  streamedParts: true,
};

/** Tries of a streamed part: each reads the part from the source again. */
const partTries = 3;

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
  /**
   * The store refused aws-chunked (a streamed PutObject or part): the rest of the delivery sends
   * held parts, whichever function instance takes it on.
   */
  readonly inParts?: true;
  /**
   * The smallest part the upload was begun with (`partSizer`'s setting), so a later attempt cuts
   * the rest alike whatever settings it runs with. Absent in state saved before it was kept: 8 MiB.
   */
  readonly partSize?: number;
}

/** The store's APIs an upload sends with: one that retries, and one that never sends a request twice by itself. */
export interface S3Clients {
  /** Everything but the requests that make the object, tried again as the SDK would. */
  readonly transfer: S3Api;
  /** PutObject and CompleteMultipartUpload: sent again only once the object is known not to be there. */
  readonly commit: S3Api;
}

export interface StreamedObject {
  readonly etag: string | undefined;
  readonly parts: number;
  /** Bytes an earlier attempt had already stored. */
  readonly resumedAt: number;
}

function crcOf(base64: string | undefined): number | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').readUInt32BE(0);
}

/**
 * The parts an earlier attempt stored, in order from the first, as long as each is the size this
 * upload cuts (a gap or an odd part ends them: what follows is sent again). Undefined when the
 * upload no longer exists (completed, aborted or expired).
 */
async function storedParts(
  api: S3Api,
  target: ObjectTarget,
  uploadId: string,
  sizeOf: (index: number) => number,
  signal: AbortSignal,
): Promise<{ completed: CompletedPart[]; start: SourceStart } | undefined> {
  const listed = await listParts(api, target, uploadId, signal);
  if (listed === undefined) return undefined;
  const stored = new Map(listed.map((part) => [part.partNumber, part]));
  const completed: CompletedPart[] = [];
  let offset = 0;
  let crc: number | undefined = 0;
  for (let number = 1; ; number += 1) {
    const part = stored.get(number);
    if (!part || part.size !== sizeOf(number - 1)) break;
    completed.push({ partNumber: number, etag: part.etag, crc32: part.crc32 });
    const partCrc = crcOf(part.crc32);
    crc = crc === undefined || partCrc === undefined ? undefined : offset === 0 ? partCrc : crc32Combine(crc, partCrc, part.size);
    offset += part.size;
  }
  return { completed, start: crc === undefined || offset === 0 ? { offset } : { offset, crc32: crc } };
}

/**
 * Streams the source into one object. A file that fits in one part is a single PutObject of that
 * part; a larger one of known size up to `streamedPutMaxBytes`, on a delivery's first attempt, one
 * PutObject streamed from the source (its CRC-32 in a trailer); anything else (and a retry, or a
 * store that refuses the streamed PutObject) a multipart upload whose parts each carry a CRC-32 the
 * store verifies: each part read from the source by itself and streamed, several at once, when the
 * source allows, and otherwise held from one read. The upload's id is saved as soon as it exists,
 * so when this attempt fails a later one lists the parts already stored and sends only the rest;
 * the upload is aborted by `abortUpload` when the delivery finally fails, so no parts outlive it.
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
  const earlier = resume.state?.key === parameters.key ? resume.state : undefined;
  const target: ObjectTarget = { bucket: parameters.bucket, key: parameters.key };
  // A continued upload is cut as it was begun, whichever settings this attempt runs with.
  const earlierPartSize = earlier?.partSize ?? settings.partSize;
  const earlierSizeOf = partSizer(source.size, { partSize: earlierPartSize });
  const continued = earlier?.uploadId ? await storedParts(client, target, earlier.uploadId, earlierSizeOf, signal) : undefined;
  const madeSince = earlier?.completingAt !== undefined ? new Date(earlier.completingAt) : earlier?.uploadId === undefined ? resume.earlierAttemptsSince : undefined;
  if (madeSince !== undefined && !continued && source.size !== undefined) {
    // An earlier attempt began completing its multipart upload, which is gone, or (with nothing
    // saved) may have sent its single PutObject: if the request was carried out, the object is
    // there, and sending the file again would write it twice.
    const etag = await objectWrittenSince(client, target, source.size, madeSince, signal);
    if (etag !== undefined) return { etag, parts: earlier?.uploadId === undefined ? 1 : Math.ceil(source.size / earlierSizeOf(0)), resumedAt: source.size };
  }

  let uploadId: string;
  /** The smallest part the upload is cut with, kept in its saved state. */
  let partSize: number;
  let completed: CompletedPart[];
  /** Where the parts come from: ranges of the source read each by itself, or parts held from one read. */
  let from: { readonly ranges: readonly SourceRange[] } | { readonly held: AsyncGenerator<SourcePart> };
  // Only a first attempt streams: one that came after a failure (a slow or broken link, a function
  // timeout) sends parts, which a further attempt continues instead of sending the file again.
  const firstAttempt = resume.earlierAttemptsSince === undefined && !earlier?.inParts;
  if (firstAttempt && !continued && source.size !== undefined && source.size > settings.streamedPutMinBytes && source.size <= settings.streamedPutMaxBytes) {
    try {
      const etag = await putOnce(clients, parameters, { source, size: source.size }, signal);
      return { etag, parts: 1, resumedAt: 0 };
    } catch (error) {
      if (!refusesStreamedUpload(error)) throw error;
      await resume.save({ key: parameters.key, inParts: true });
      throw new StreamedPutRefusedError(error);
    }
  }
  // Parts are read by themselves unless the store refused aws-chunked (or the source cannot be read so).
  const streamed = settings.streamedParts && !earlier?.inParts;
  const inParts = earlier?.inParts ? { inParts: true as const } : {};
  if (earlier?.uploadId && continued) {
    uploadId = earlier.uploadId;
    partSize = earlierPartSize;
    completed = continued.completed;
    const done = completed.length;
    const lengthOf = (index: number): number => earlierSizeOf(done + index);
    const ranges = streamed ? source.rangedParts?.(lengthOf, continued.start) : undefined;
    from = ranges ? { ranges } : { held: source.parts(lengthOf, continued.start) };
  } else {
    const ranges =
      streamed && source.size !== undefined && source.size > sizeOf(0) ? source.rangedParts?.(partSizer(source.size, { partSize: settings.streamedPartSize })) : undefined;
    if (ranges) {
      from = { ranges };
    } else {
      const parts = source.parts(sizeOf);
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
      from = {
        held: (async function* () {
          yield firstPart;
          yield* parts;
        })(),
      };
    }
    // An earlier attempt that saved no upload id may have ended right after creating one.
    if (earlier?.uploadId === undefined && resume.earlierAttemptsSince !== undefined) await abortUploadsMadeSince(client, target, resume.earlierAttemptsSince, signal);
    uploadId = await createMultipartUpload(client, parameters, signal);
    partSize = 'ranges' in from ? settings.streamedPartSize : settings.partSize;
    await resume.save({ uploadId, key: parameters.key, partSize, ...inParts });
    completed = [];
  }

  const resumedAt = continued?.start.offset ?? 0;
  const into: PartsTarget = { target, uploadId, firstNumber: completed.length + 1 };
  const sent =
    'ranges' in from ? await sendStreamedParts(client, into, from.ranges, resume, signal, settings.concurrency) : await sendHeldParts(client, into, from.held, signal, settings);
  const size = resumedAt + sent.bytes;
  const all = [...completed, ...sent.parts];
  const completingAt = new Date();
  await resume.save({ uploadId, key: parameters.key, partSize, ...inParts, completingAt: completingAt.toISOString() });
  const etag = await writeOnce(
    () => completeMultipartUpload(clients.commit, target, uploadId, all, signal),
    () => objectWrittenSince(client, target, size, completingAt, signal),
    signal,
  );
  return { etag, parts: all.length, resumedAt };
}

/** The multipart upload the parts go to, and the number of the first. */
interface PartsTarget {
  readonly target: ObjectTarget;
  readonly uploadId: string;
  readonly firstNumber: number;
}

/** The parts an upload sent, in order, and their bytes. */
interface SentParts {
  readonly parts: CompletedPart[];
  readonly bytes: number;
}

/**
 * Sends parts held from one read of the source, as many at once as `settings` allows for their
 * size; each buffer goes back to the source once sent.
 */
async function sendHeldParts(
  client: S3Api,
  { target, uploadId, firstNumber }: PartsTarget,
  held: AsyncGenerator<SourcePart>,
  signal: AbortSignal,
  settings: MultipartSettings,
): Promise<SentParts> {
  let bytes = 0;
  const parts = await forEachConcurrently<SourcePart, CompletedPart>(
    held,
    (part) => Math.max(1, Math.min(settings.concurrency, Math.floor(settings.maxBytesInFlight / Math.max(1, part.bytes.length)))),
    async (part, index) => {
      try {
        const etag = await uploadPart(client, target, uploadId, firstNumber + index, part.bytes, part.crc32, signal);
        bytes += part.bytes.length;
        return { partNumber: firstNumber + index, etag, crc32: part.crc32 };
      } finally {
        part.release();
      }
    },
  );
  return { parts, bytes };
}

/**
 * Sends every range as a part read straight from the source, `concurrency` at once. A part that
 * fails in a way another try may not meet is read and sent again. A store that refuses aws-chunked
 * parts, or answers one without echoing the CRC-32 it checked (it may have kept the framing as the
 * part's bytes), gets this upload aborted and the delivery comes back at once to send held parts.
 */
async function sendStreamedParts(
  client: S3Api,
  { target, uploadId, firstNumber }: PartsTarget,
  ranges: readonly SourceRange[],
  resume: ResumeSlot<S3ResumeState>,
  signal: AbortSignal,
  concurrency: number,
): Promise<SentParts> {
  try {
    const parts = await forEachConcurrently(
      ranges,
      () => concurrency,
      (range, index) =>
        withAwsRetries(
          partTries,
          async () => {
            const partNumber = firstNumber + index;
            const read = await range.open();
            // One framed chunk ready ahead per part: the other parts keep the link busy meanwhile,
            // and every chunk ahead is memory held per part in flight.
            const framed = frame(read.stream, range.length, read.crc32, signal, 1);
            let answer: WrittenObject;
            try {
              answer = await uploadStreamedPart(client, target, uploadId, partNumber, framed.body, chunkedHeaders(range.length), framed.signal);
            } catch (error) {
              // What the failed try left unread of the part is let go, its connection with it.
              read.stream.destroy();
              throw framed.failure(error);
            }
            const crc32 = read.crc32();
            if (answer.crc32 !== crc32) throw new AwsChunkedNotDecodedError(`part ${partNumber}: the store answered CRC-32 ${answer.crc32} for ${crc32}`);
            return { partNumber, etag: answer.etag, crc32 };
          },
          (error) => !refusesStreamedUpload(error) && worthAnotherTry(error, signal),
        ),
    );
    return { parts, bytes: ranges.reduce((sum, range) => sum + range.length, 0) };
  } catch (error) {
    if (!refusesStreamedUpload(error)) throw error;
    await abortMultipartUpload(client, target, uploadId, signal).catch(() => undefined);
    await resume.save({ key: target.key, inParts: true });
    throw new StreamedPutRefusedError(error);
  }
}

/** A whole object's body: bytes already read (their CRC-32 known), or the source, of a known size, to stream. */
type ObjectBody = { readonly bytes: Uint8Array; readonly crc32: string } | { readonly source: DeliverySource; readonly size: number };

/** A body read from a stream, framed as aws-chunked, ready to send, and what its sending must watch. */
interface FramedBody {
  readonly body: StreamedBody;
  /** Fires with the caller's signal, or with the reason reading the body failed. */
  readonly signal: AbortSignal;
  /** What a failed send reports: the body's own failure when reading it broke, else `error`. */
  failure(error: unknown): unknown;
}

/**
 * Frames `size` bytes read as a stream, their CRC-32 (`crc32AtEnd`) in a trailer; a read that
 * breaks, or ends short or long, fails the body before its final chunk, and the request with it
 * (which would otherwise wait for the rest of the body).
 */
function frame(stream: Readable, size: number, crc32AtEnd: () => string | undefined, signal: AbortSignal, readAhead?: number): FramedBody {
  const framed = new AwsChunkedCrc32(size, crc32AtEnd, readAhead);
  const broken = new AbortController();
  framed.once('error', (error) => broken.abort(error));
  feed(stream, framed);
  return {
    body: {
      stream: framed,
      length: awsChunkedLength(size),
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      written: AwsChunkedCrc32.reuse,
    },
    signal: AbortSignal.any([signal, broken.signal]),
    failure: (error) => (broken.signal.aborted ? broken.signal.reason : error),
  };
}

/** The headers of `size` bytes framed by {@link AwsChunkedCrc32}, after the content's own encoding, if any. */
function chunkedHeaders(size: number, encoding?: string): Record<string, string> {
  return {
    'content-encoding': encoding === undefined ? 'aws-chunked' : `aws-chunked,${encoding}`,
    'x-amz-decoded-content-length': String(size),
    'x-amz-trailer': crc32TrailerName,
    'x-amz-sdk-checksum-algorithm': 'CRC32',
  };
}

/** An object's parameters with its body framed by {@link AwsChunkedCrc32}: its CRC-32 comes in a trailer. */
function streamedHeaders(parameters: ObjectParameters, size: number): ObjectParameters {
  return { ...parameters, headers: { ...parameters.headers, ...chunkedHeaders(size, parameters.headers['content-encoding']) } };
}

/**
 * Sends the whole object in one PutObject, once: should this attempt end before the answer comes
 * (its deadline, a crash), the next one looks for the object written since the first attempt began
 * before sending it again. Bytes already read may be sent again within this attempt; a stream is
 * read once, so after a failure the next attempt looks and sends.
 */
async function putOnce(clients: S3Clients, parameters: ObjectParameters, body: ObjectBody, signal: AbortSignal): Promise<string | undefined> {
  const size = 'bytes' in body ? body.bytes.length : body.size;
  const target: ObjectTarget = { bucket: parameters.bucket, key: parameters.key };
  // Nothing is saved before it goes (a job-table write for every small file): should this attempt
  // end without its answer, the next one looks for the object since the first attempt began.
  const sentAt = new Date();
  const landed = (): Promise<string | undefined> => objectWrittenSince(clients.transfer, target, size, sentAt, signal);
  if ('bytes' in body) {
    return writeOnce(async () => (await putObject(clients.commit, parameters, body.bytes, body.crc32, signal)).etag, landed, signal);
  }
  const framed = frame(await body.source.stream(), body.size, () => body.source.checksum?.value, signal);
  let answer: WrittenObject | undefined;
  let etag: string | undefined;
  try {
    etag = await writeOnce(
      async () => {
        answer = await putStreamedObject(clients.commit, streamedHeaders(parameters, size), framed.body, framed.signal);
        return answer.etag;
      },
      landed,
      signal,
      1,
    );
  } catch (error) {
    throw framed.failure(error);
  }
  // An object found after a lost answer was already checked for its size.
  if (answer !== undefined) await expectDecoded(clients.transfer, { ...target, versionId: answer.versionId }, size, answer.crc32, body.source.checksum?.value, signal);
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
  api: S3Api,
  written: ObjectTarget,
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
    const head = await headObject(api, written, signal).catch((error: unknown) => {
      if (error instanceof S3Error && error.statusCode === 403) return undefined;
      throw error;
    });
    if (head === undefined || head.size === size) return;
    found = `${head.size} bytes stored for ${size}`;
  }
  // Best effort: the parts that follow overwrite the object should the store not let it be deleted.
  await deleteObject(api, written, signal).catch(() => undefined);
  throw new AwsChunkedNotDecodedError(found);
}
