import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { crc32Base64 } from '../../../shared/destination/index.ts';

/** The trailer that carries the object's CRC-32 after its last byte. */
export const crc32TrailerName = 'x-amz-checksum-crc32';

/**
 * Payload bytes per aws-chunked chunk. Chunks are of a fixed size so the framed length is known
 * before the first byte (S3 wants a Content-Length on PutObject); 1 MiB keeps the framing to a few
 * bytes per MiB.
 */
const chunkBytes = 1024 * 1024;
const crlf = Buffer.from('\r\n');

/** `hex-size\r\n` + data + `\r\n`. */
function framedChunkLength(size: number): number {
  return size.toString(16).length + 2 + size + 2;
}

/** `0\r\n`, the trailer line with its 8 base64 characters, and the closing empty line. */
const finalChunkLength = 3 + crc32TrailerName.length + 1 + 8 + 2 + 2;

/** Bytes on the wire of `size` payload bytes framed by {@link AwsChunkedCrc32}. */
export function awsChunkedLength(size: number): number {
  const whole = Math.floor(size / chunkBytes);
  const rest = size % chunkBytes;
  return whole * framedChunkLength(chunkBytes) + (rest > 0 ? framedChunkLength(rest) : 0) + finalChunkLength;
}

/**
 * Frames exactly `size` bytes as S3's `aws-chunked` content encoding with unsigned chunks, then the
 * CRC-32 of those bytes as a trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): the checksum of a
 * body that is streamed, never held, and so is only known once its last byte is sent. The data
 * passes through as views of the incoming chunks (no copy). Fewer or more bytes than `size` fail
 * the stream, so the store never gets a complete body that is not the file.
 */
export class AwsChunkedCrc32 extends Transform {
  private crc = 0;
  private passed = 0;
  /** Bytes of the current chunk still to pass. */
  private open = 0;

  public constructor(private readonly size: number) {
    super();
  }

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.passed + chunk.length > this.size) {
      callback(new Error(`aws-chunked: more than the announced ${this.size} bytes`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    for (let offset = 0; offset < chunk.length; ) {
      if (this.open === 0) {
        this.open = Math.min(chunkBytes, this.size - this.passed);
        this.push(Buffer.from(`${this.open.toString(16)}\r\n`, 'latin1'));
      }
      const take = Math.min(this.open, chunk.length - offset);
      this.push(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      offset += take;
      this.open -= take;
      this.passed += take;
      if (this.open === 0) this.push(crlf);
    }
    callback();
  }

  public override _flush(callback: TransformCallback): void {
    if (this.passed !== this.size) {
      callback(new Error(`aws-chunked: ${this.passed} of the announced ${this.size} bytes`));
      return;
    }
    callback(null, Buffer.from(`0\r\n${crc32TrailerName}:${crc32Base64(this.crc)}\r\n\r\n`, 'latin1'));
  }
}
