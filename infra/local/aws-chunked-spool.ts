import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { AwsChunkedDecoder } from './aws-chunked-decoder.ts';

/** An upload S3 refuses, with the code and message S3 answers it with (400). */
export class ChunkedBodyRefused extends Error {
  public constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ChunkedBodyRefused';
  }
}

/** A decoded body on disk, checked, to hand on. */
export interface SpooledBody {
  readonly path: string;
  readonly size: number;
  /** The CRC-32 (base64) of a trailer that was checked, which S3 echoes in its answer. */
  readonly crc32?: string;
  remove(): Promise<void>;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** True for a body framed as `aws-chunked` (S3's streaming uploads, signed or not). */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  return /(^|,)\s*aws-chunked\s*(,|$)/i.test(header(headers, 'content-encoding')) || header(headers, 'x-amz-content-sha256').startsWith('STREAMING-');
}

/** The headers of the same request with its body decoded: the payload's length, no framing, no trailer. */
export function decodedHeaders(headers: IncomingHttpHeaders, size: number): IncomingHttpHeaders {
  const decoded: IncomingHttpHeaders = { ...headers, 'content-length': String(size), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  for (const name of ['x-amz-decoded-content-length', 'x-amz-trailer', 'transfer-encoding', 'content-encoding']) delete decoded[name];
  const encodings = header(headers, 'content-encoding')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== 'aws-chunked');
  if (encodings.length > 0) decoded['content-encoding'] = encodings.join(',');
  return decoded;
}

/**
 * Decodes an `aws-chunked` request body into a file in `folder`, and checks it as S3 does before
 * making the object: the decoded length against `x-amz-decoded-content-length`, the framing to
 * its final chunk, and a CRC-32 trailer against the bytes. Only then may the store see it, so a
 * refused or broken upload leaves nothing (s3rver writes an object in place as it arrives).
 */
export async function spoolAwsChunked(incoming: IncomingMessage, folder: string): Promise<SpooledBody> {
  const path = join(folder, randomUUID());
  const remove = (): Promise<void> => rm(path, { force: true });
  const decoder = new AwsChunkedDecoder();
  let crc = 0;
  const decode = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.write(chunk, (data) => {
          crc = crc32(data, crc);
          this.push(data);
        });
        done();
      } catch (error) {
        done(new ChunkedBodyRefused('InvalidRequest', `The aws-chunked body is malformed: ${(error as Error).message}`));
      }
    },
  });
  try {
    await pipeline(incoming, decode, createWriteStream(path));
    const declared = Number(header(incoming.headers, 'x-amz-decoded-content-length'));
    if (!decoder.complete || decoder.decodedBytes !== declared) {
      throw new ChunkedBodyRefused('IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length header.');
    }
    const sent = decoder.trailers.get('x-amz-checksum-crc32');
    if (header(incoming.headers, 'x-amz-trailer').toLowerCase().includes('x-amz-checksum-crc32') && sent === undefined) {
      throw new ChunkedBodyRefused('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.');
    }
    if (sent !== undefined && sent !== crc32Base64(crc)) {
      throw new ChunkedBodyRefused('BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
    return { path, size: decoder.decodedBytes, remove, ...(sent === undefined ? {} : { crc32: sent }) };
  } catch (error) {
    await remove();
    throw error;
  }
}
