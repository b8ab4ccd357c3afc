import { Transform, type TransformCallback } from 'node:stream';
import { BufferPool, releaseChunk } from '../../../shared/destination/index.ts';

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

const wholeChunkLength = framedChunkLength(chunkBytes);
/**
 * Whole framed chunks that have been written, kept to carry later ones, for every body the process
 * sends: enough for four parts in flight, each with the chunk being filled, one read ahead and
 * the one being written, and a single PUT's four read ahead.
 */
const spare = new BufferPool(16);

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
 * body that is streamed, never held, and so is only known once its last byte is sent. The
 * checksum is the source's own (`crc32AtEnd`, base64), which it sums as it is read: summing the
 * bytes again here would cost a second pass over every byte. Each chunk
 * leaves as one buffer, framing included: a source's small reads (16–64 KiB from a socket) would
 * otherwise each be a write, and a TLS record, of their own. A chunk that has been written is
 * given back ({@link reuse}) and carries a later one: memory the process has not touched before
 * costs a page fault per 4 KiB (in a Lambda's micro-VM, as in the bench's: a fresh 64 MiB took
 * 300 ms to fill, a reused one 2 ms). Fewer or more bytes than `size` fail the stream, so the store
 * never gets a complete body that is not the file.
 */
export class AwsChunkedCrc32 extends Transform {
  private passed = 0;
  /** The framed chunk being filled, and where its next payload byte goes. */
  private framed: Buffer | undefined;
  private filled = 0;

  /**
   * @param readAhead framed chunks kept ready ahead of the socket, so the source is read while the
   * last one is sent (fewer where several bodies are sent at once, each holding its own)
   */
  public constructor(
    private readonly size: number,
    private readonly crc32AtEnd: () => string | undefined,
    readAhead = 4,
  ) {
    super({ readableHighWaterMark: readAhead * chunkBytes });
  }

  /** Takes back a chunk such a stream gave once it has been written, to carry a later one. */
  public static reuse(chunk: Buffer): void {
    if (chunk.length === wholeChunkLength) spare.give(chunk);
  }

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.passed + chunk.length > this.size) {
      callback(new Error(`aws-chunked: more than the announced ${this.size} bytes`));
      return;
    }
    for (let offset = 0; offset < chunk.length; ) {
      if (this.framed === undefined) {
        const payload = Math.min(chunkBytes, this.size - this.passed);
        const length = framedChunkLength(payload);
        this.framed = length === wholeChunkLength ? spare.take(length) : Buffer.allocUnsafe(length);
        this.filled = this.framed.write(`${payload.toString(16)}\r\n`, 'latin1');
      }
      const copied = chunk.copy(this.framed, this.filled, offset, offset + Math.min(chunk.length - offset, this.framed.length - 2 - this.filled));
      offset += copied;
      this.filled += copied;
      this.passed += copied;
      if (this.filled === this.framed.length - 2) {
        crlf.copy(this.framed, this.filled);
        this.push(this.framed);
        this.framed = undefined;
      }
    }
    // Copied into the framed chunks: a chunk the source was read into can take another read.
    releaseChunk(chunk);
    callback();
  }

  public override _flush(callback: TransformCallback): void {
    if (this.passed !== this.size) {
      callback(new Error(`aws-chunked: ${this.passed} of the announced ${this.size} bytes`));
      return;
    }
    const crc = this.crc32AtEnd();
    if (crc === undefined) {
      callback(new Error('aws-chunked: the source has no checksum at its end'));
      return;
    }
    callback(null, Buffer.from(`0\r\n${crc32TrailerName}:${crc}\r\n\r\n`, 'latin1'));
  }
}
