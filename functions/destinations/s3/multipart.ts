import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { crc32Base64, RunningCrc32 } from '../../../shared/delivery/checksum.ts';
import { TransientError } from '../../../shared/errors.ts';
import { BufferPool } from '../../../shared/streams/buffer-pool.ts';
import { readParts } from '../../../shared/streams/chunks.ts';
import { forEachConcurrently } from '../../../shared/streams/parallel.ts';

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
}

/**
 * Measured with `npm run bench` (1 GiB): 8 MiB × 4 in flight is as fast as 8 or more, and larger
 * parts are slower; fewer parts in flight keep memory flat and small, most of all over TLS.
 */
export const defaultMultipartSettings: MultipartSettings = {
  partSize: 8 * MiB,
  concurrency: 4,
  maxBytesInFlight: 32 * MiB,
};

/**
 * The size of part `index`. With a known size every part is equal and 10,000 of them cover the
 * file. With an unknown size the parts double every 1,000, which reaches past 8 TiB.
 */
export function partSizer(size: number | undefined, settings: MultipartSettings): (index: number) => number {
  const base = Math.max(settings.partSize, minPartSize);
  if (size !== undefined) {
    const fitted = Math.max(base, Math.ceil(size / maxParts / MiB) * MiB);
    return () => Math.min(fitted, maxPartSize);
  }
  return (index) => Math.min(base * 2 ** Math.floor(index / 1000), maxPartSize);
}

/** A source that ends before its announced length must not become a truncated object. */
function assertComplete(bytes: number, size: number | undefined): void {
  if (size !== undefined && bytes !== size) {
    throw new TransientError(`the source ended after ${bytes} of its ${size} bytes`, { code: 'SourceTruncated' });
  }
}

export interface StreamedObject {
  readonly bytes: number;
  /** CRC-32 of the whole object, base64. */
  readonly crc32: string;
  readonly etag: string | undefined;
  readonly parts: number;
}

/** The object's parameters except its body: bucket, key, headers, ACL, storage class, tags… */
export type ObjectParameters = Omit<PutObjectCommandInput, 'Body' | 'ContentLength' | 'ChecksumCRC32' | 'ChecksumAlgorithm'>;

/**
 * Streams `body` into one object. A body that fits in one part is a single PutObject; a larger one
 * a multipart upload whose parts each carry a CRC-32 the store verifies. When anything fails the
 * multipart upload is aborted, so no partial object or orphaned parts stay behind.
 */
export async function streamToS3(
  client: S3Client,
  parameters: ObjectParameters,
  body: Readable,
  size: number | undefined,
  signal: AbortSignal,
  settings: MultipartSettings = defaultMultipartSettings,
): Promise<StreamedObject> {
  const sizeOf = partSizer(size, settings);
  // With a known size the last part is cut to what remains, so a small file never costs a whole part.
  const lengthOf = (index: number): number => {
    const remaining = size === undefined ? 0 : size - index * sizeOf(0);
    return remaining > 0 ? Math.min(sizeOf(index), remaining) : sizeOf(index);
  };
  const pool = new BufferPool();
  const parts = readParts(body, lengthOf, (length) => pool.take(length));
  const whole = new RunningCrc32();
  const first = await parts.next();
  const firstPart = first.done ? Buffer.alloc(0) : first.value;
  const firstCrc = crc32Base64(whole.add(firstPart));
  if (firstPart.length < sizeOf(0)) {
    if (!(await parts.next()).done) {
      throw new TransientError(`the source sent more than its announced ${size} bytes`, { code: 'SourceTooLong' });
    }
    assertComplete(whole.bytes, size);
    const answer = await client.send(
      new PutObjectCommand({
        ...parameters,
        Body: firstPart,
        ContentLength: firstPart.length,
        ChecksumAlgorithm: 'CRC32',
        ChecksumCRC32: firstCrc,
      }),
      { abortSignal: signal },
    );
    return { bytes: whole.bytes, crc32: whole.base64, etag: answer.ETag, parts: 1 };
  }

  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ ...parameters, ChecksumAlgorithm: 'CRC32' }),
    { abortSignal: signal },
  );
  const target = { Bucket: parameters.Bucket, Key: parameters.Key, UploadId };
  try {
    // Each part's CRC is computed once, in order, as it is cut: it goes with the part and builds the whole.
    async function* checkedParts(): AsyncGenerator<{ bytes: Buffer; crc32: string }> {
      yield { bytes: firstPart, crc32: firstCrc };
      for await (const part of parts) yield { bytes: part, crc32: crc32Base64(whole.add(part)) };
    }
    const completed = await forEachConcurrently<{ bytes: Buffer; crc32: string }, CompletedPart>(
      checkedParts(),
      (part) => Math.max(1, Math.min(settings.concurrency, Math.floor(settings.maxBytesInFlight / part.bytes.length))),
      async (part, index) => {
        try {
          const answer = await client.send(
            new UploadPartCommand({
              ...target,
              PartNumber: index + 1,
              Body: part.bytes,
              ContentLength: part.bytes.length,
              ChecksumCRC32: part.crc32,
            }),
            { abortSignal: signal },
          );
          return { PartNumber: index + 1, ETag: answer.ETag, ChecksumCRC32: part.crc32 };
        } finally {
          // Only whole buffers go back; the last, shorter part is a view of one.
          if (part.bytes.length === part.bytes.buffer.byteLength) pool.give(part.bytes);
        }
      },
    );
    assertComplete(whole.bytes, size);
    const answer = await client.send(
      new CompleteMultipartUploadCommand({ ...target, MultipartUpload: { Parts: completed } }),
      { abortSignal: signal },
    );
    return { bytes: whole.bytes, crc32: whole.base64, etag: answer.ETag, parts: completed.length };
  } catch (error) {
    body.destroy();
    // A fresh signal: the abort must go out even when the upload was cancelled.
    await client.send(new AbortMultipartUploadCommand(target)).catch(() => undefined);
    throw error;
  }
}
