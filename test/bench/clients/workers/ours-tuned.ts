import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import * as clientModule from '../../../../functions/destinations/s3/client.ts';
import * as multipartModule from '../../../../functions/destinations/s3/multipart.ts';
import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import type { NetworkPolicy } from '../../../../shared/net/guarded-connect.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/**
 * The project's multipart code with other settings, for the tuning sweep: part size, parts in
 * flight, the in-flight byte budget, the largest file sent as one streamed PutObject, and whether the payload SHA-256 is skipped (UNSIGNED-PAYLOAD,
 * as the AWS CLI does over HTTPS; the part CRC-32 still protects the bytes) or computed off the
 * main thread. It reaches into the destination's internals, so it looks them up at run time and
 * says what is missing when they move.
 */
interface Settings {
  readonly partSize: number;
  readonly concurrency: number;
  readonly maxBytesInFlight: number;
  readonly streamedPutMaxBytes: number;
}
type StreamToS3 = (
  clients: { transfer: S3Client; commit: S3Client },
  parameters: { Bucket: string; Key: string; ContentType?: string },
  source: SourceReader,
  resume: { state: undefined; save: () => Promise<void> },
  signal: AbortSignal,
  settings: Settings,
) => Promise<unknown>;

const MiB = 1024 * 1024;

/** The bench servers listen on loopback. */
const network: NetworkPolicy = { allowPrivateNetworks: true };

function lookup<T>(module: object, name: string, file: string): T {
  const value = (module as Record<string, unknown>)[name];
  if (value === undefined) throw new Error(`${file} no longer exports ${name}; update test/bench/clients/workers/ours-tuned.ts`);
  return value as T;
}

await runWorker(async (task) => {
  const s3ClientFor = lookup<(destination: unknown, network: NetworkPolicy, options?: { retries?: boolean }) => S3Client>(
    clientModule,
    's3ClientFor',
    'functions/destinations/s3/client.ts',
  );
  const streamToS3 = lookup<StreamToS3>(multipartModule, 'streamToS3', 'functions/destinations/s3/multipart.ts');
  const defaults = lookup<Settings>(multipartModule, 'defaultMultipartSettings', 'functions/destinations/s3/multipart.ts');
  const tuning = task.tuning ?? {};
  const settings: Settings = {
    partSize: tuning.partSizeMiB === undefined ? defaults.partSize : tuning.partSizeMiB * MiB,
    concurrency: tuning.concurrency ?? defaults.concurrency,
    maxBytesInFlight: tuning.maxBytesInFlightMiB === undefined ? defaults.maxBytesInFlight : tuning.maxBytesInFlightMiB * MiB,
    streamedPutMaxBytes: tuning.streamedPutMaxMiB === undefined ? defaults.streamedPutMaxBytes : tuning.streamedPutMaxMiB * MiB,
  };
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const client = s3ClientFor(destination, network);
  if (tuning.threadpoolSha256 === 1) {
    // The same signed payload, but its SHA-256 computed by WebCrypto, which runs on libuv's thread
    // pool: the main thread (which also encrypts TLS and copies parts) stays free.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (request.headers && request.body instanceof Uint8Array && !request.headers['x-amz-content-sha256']) {
          const digest = await crypto.subtle.digest('SHA-256', request.body);
          request.headers['x-amz-content-sha256'] = Buffer.from(digest).toString('hex');
        }
        return next(args);
      },
      { step: 'build', name: 'benchThreadpoolSha256' },
    );
  }
  if (tuning.streamedPartMiB !== undefined) {
    // Each part handed to the HTTP layer as a stream of slices instead of one buffer: with TLS,
    // Node encrypts a whole buffer written at once into a second copy, while a piped stream is
    // encrypted as the socket drains. A stream body is not hashed, so this implies UNSIGNED-PAYLOAD.
    const slice = tuning.streamedPartMiB * MiB;
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (request.headers && request.body instanceof Uint8Array && request.body.length > slice) {
          const body = request.body;
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
          request.body = Readable.from(
            (function* slices() {
              for (let offset = 0; offset < body.length; offset += slice) yield body.subarray(offset, offset + slice);
            })(),
            { objectMode: false },
          );
        }
        return next(args);
      },
      { step: 'build', name: 'benchStreamedPart' },
    );
  }
  if (tuning.unsignedPayload === 1) {
    // Set before signing: SigV4 then signs the literal instead of hashing every part.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'benchUnsignedPayload' },
    );
  }
  const source = new SourceReader(
    { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name: 'bench.bin', version: undefined },
    { reopen: () => Promise.reject(new Error('the bench source is read once')) },
  );
  try {
    await streamToS3(
      { transfer: client, commit: s3ClientFor(destination, network, { retries: false }) },
      { Bucket: task.bucket, Key: task.key, ContentType: 'application/octet-stream' },
      source,
      { state: undefined, save: async () => undefined },
      new AbortController().signal,
      settings,
    );
    return { settings, unsignedPayload: tuning.unsignedPayload === 1 };
  } finally {
    client.destroy();
  }
});
