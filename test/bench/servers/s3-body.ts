import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder } from './aws-chunked.ts';

/** An S3 error the sink answers with, as S3 would. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const checksumAlgorithms = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];

/** What arrived in one request body, decoded from any aws-chunked framing. */
export interface ReceivedBody {
  readonly bytes: number;
  /** Flexible checksums the client sent (header or trailer), base64 as on the wire. */
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
  /** How the client protected these bytes, e.g. `sha256(payload)`, `md5`, `crc32(trailer)`. */
  readonly integrity: readonly string[];
  /** The payload itself, kept only when asked (verification runs and small XML bodies). */
  readonly data: Buffer | undefined;
  /** CRC32 of the payload, computed only in verification runs. */
  readonly crc32: number | undefined;
  /** MD5 of the payload as hex: from Content-MD5 when sent (trusted unless verifying), else computed when verifying. */
  readonly md5Hex: string | undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a request body to its end, counting bytes (and, in verification runs, keeping them and
 * checking every digest the client sent). Without verification it does no hashing at all: the
 * sink must not be what limits the client.
 */
export async function receiveBody(request: IncomingMessage, options: { keep: boolean; verify: boolean }): Promise<ReceivedBody> {
  const payloadHash = header(request, 'x-amz-content-sha256');
  const chunked =
    (header(request, 'content-encoding') ?? '').includes('aws-chunked') || (payloadHash ?? '').startsWith('STREAMING-');
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  const kept: Buffer[] = [];
  let bytes = 0;
  const keep = options.keep || options.verify;
  const onData = keep ? (data: Buffer): void => void kept.push(Buffer.from(data)) : undefined;

  await new Promise<void>((resolve, reject) => {
    request.on('data', (chunk: Buffer) => {
      try {
        if (decoder) decoder.write(chunk, onData);
        else {
          bytes += chunk.length;
          onData?.(chunk);
        }
      } catch (error) {
        request.destroy();
        reject(new S3Error(400, 'IncompleteBody', (error as Error).message));
      }
    });
    request.on('end', resolve);
    request.on('error', reject);
  });

  if (decoder) {
    if (!decoder.complete) throw new S3Error(400, 'IncompleteBody', 'aws-chunked body ended before its final chunk');
    bytes = decoder.decodedBytes;
    const declared = header(request, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== bytes) {
      throw new S3Error(400, 'IncompleteBody', `x-amz-decoded-content-length ${declared} but ${bytes} bytes arrived`);
    }
  }

  const checksums = new Map<ChecksumAlgorithm, string>();
  const integrity: string[] = [];
  for (const algorithm of checksumAlgorithms) {
    const name = `x-amz-checksum-${algorithm}`;
    const fromHeader = header(request, name);
    const fromTrailer = decoder?.trailers.get(name);
    if (fromHeader !== undefined) {
      checksums.set(algorithm, fromHeader);
      integrity.push(`${algorithm}(header)`);
    } else if (fromTrailer !== undefined) {
      checksums.set(algorithm, fromTrailer);
      integrity.push(`${algorithm}(trailer)`);
    }
  }
  const contentMd5 = header(request, 'content-md5');
  if (contentMd5) integrity.push('md5');
  if (payloadHash && /^[0-9a-f]{64}$/i.test(payloadHash)) integrity.push('sha256(payload)');
  if (payloadHash?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) integrity.push('signed-chunks');

  const data = keep ? Buffer.concat(kept) : undefined;
  let computedCrc: number | undefined;
  let md5Hex = contentMd5 ? Buffer.from(contentMd5, 'base64').toString('hex') : undefined;
  if (options.verify && data) {
    computedCrc = crc32(data) >>> 0;
    const md5 = createHash('md5').update(data).digest();
    if (contentMd5 && md5.toString('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    md5Hex = md5.toString('hex');
    if (payloadHash && /^[0-9a-f]{64}$/i.test(payloadHash) && createHash('sha256').update(data).digest('hex') !== payloadHash.toLowerCase()) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    for (const [algorithm, value] of checksums) {
      const computed = digestOf(algorithm, data, computedCrc);
      if (computed !== undefined && computed !== value) {
        throw new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
      }
    }
  }
  return { bytes, checksums, integrity, data, crc32: computedCrc, md5Hex };
}

/** Base64 digest as S3 spells it; undefined for algorithms Node has no fast built-in for. */
export function digestOf(algorithm: ChecksumAlgorithm, data: Buffer, knownCrc32?: number): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const value = Buffer.alloc(4);
      value.writeUInt32BE((knownCrc32 ?? crc32(data)) >>> 0);
      return value.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(data).digest('base64');
    default:
      return undefined;
  }
}
