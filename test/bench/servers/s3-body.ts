import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder } from '../../../infra/local/aws-chunked-decoder.ts';
import { crc32Base64 } from '../../../shared/delivery/checksum.ts';

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
  /** The payload itself, only when asked to keep it (small XML bodies). */
  readonly data: Buffer | undefined;
  /** CRC-32 of the payload, computed in verification runs only. */
  readonly crc32: number | undefined;
  /** MD5 of the payload as hex: from Content-MD5 when sent (checked when verifying), else computed when verifying. */
  readonly md5Hex: string | undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}


/**
 * Reads a request body to its end, decoding aws-chunked framing. Without verification it only
 * counts bytes (the sink must never be what limits a client); in verification runs it hashes the
 * payload as it streams past and checks every digest the client sent: Content-MD5, the signed
 * payload SHA-256, and x-amz-checksum-* in headers or trailers.
 */
export async function receiveBody(request: IncomingMessage, options: { keep: boolean; verify: boolean }): Promise<ReceivedBody> {
  const payloadHash = header(request, 'x-amz-content-sha256');
  const signedPayload = payloadHash !== undefined && /^[0-9a-f]{64}$/i.test(payloadHash);
  const chunked =
    (header(request, 'content-encoding') ?? '').includes('aws-chunked') || (payloadHash ?? '').startsWith('STREAMING-');
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  const contentMd5 = header(request, 'content-md5');

  const kept: Buffer[] = [];
  const hashes = new Map<'md5' | 'sha1' | 'sha256', Hash>();
  if (options.verify) {
    // MD5 always (it is the ETag); the SHAs only when a header or a declared trailer carries one.
    const declared = `${header(request, 'x-amz-trailer') ?? ''} ${header(request, 'x-amz-checksum-sha1') === undefined ? '' : 'x-amz-checksum-sha1'} ${header(request, 'x-amz-checksum-sha256') === undefined ? '' : 'x-amz-checksum-sha256'}`.toLowerCase();
    hashes.set('md5', createHash('md5'));
    if (signedPayload || declared.includes('x-amz-checksum-sha256')) hashes.set('sha256', createHash('sha256'));
    if (declared.includes('x-amz-checksum-sha1')) hashes.set('sha1', createHash('sha1'));
  }
  let runningCrc = 0;
  let bytes = 0;
  const consume = (data: Buffer): void => {
    bytes += data.length;
    if (options.keep) kept.push(data);
    if (options.verify) {
      runningCrc = crc32(data, runningCrc);
      for (const hash of hashes.values()) hash.update(data);
    }
  };

  await new Promise<void>((resolve, reject) => {
    request.on('data', (chunk: Buffer) => {
      try {
        if (decoder) decoder.write(chunk, consume);
        else consume(chunk);
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
  if (contentMd5) integrity.push('md5');
  if (signedPayload) integrity.push('sha256(payload)');
  if (payloadHash?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) integrity.push('signed-chunks');

  let md5Hex = contentMd5 ? Buffer.from(contentMd5, 'base64').toString('hex') : undefined;
  let computedCrc: number | undefined;
  if (options.verify) {
    computedCrc = runningCrc >>> 0;
    const digests = new Map([...hashes].map(([name, hash]) => [name, hash.digest()] as const));
    const md5 = digests.get('md5');
    if (contentMd5 && md5?.toString('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    md5Hex = md5?.toString('hex');
    if (signedPayload && digests.get('sha256')?.toString('hex') !== payloadHash.toLowerCase()) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    for (const [algorithm, value] of checksums) {
      const computed =
        algorithm === 'crc32' ? crc32Base64(computedCrc) : algorithm === 'sha1' || algorithm === 'sha256' ? digests.get(algorithm)?.toString('base64') : undefined;
      if (computed === undefined) integrity.push(`${algorithm}(unchecked)`);
      else if (computed !== value) {
        throw new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
      }
    }
  }
  return { bytes, checksums, integrity, data: options.keep ? Buffer.concat(kept) : undefined, crc32: computedCrc, md5Hex };
}

/** Base64 digest of a composite checksum input; undefined for algorithms Node has no built-in for. */
export function digestOf(algorithm: ChecksumAlgorithm, data: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32':
      return crc32Base64(crc32(data));
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(data).digest('base64');
    default:
      return undefined;
  }
}
