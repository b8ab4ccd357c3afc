import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AwsChunkedCrc32, awsChunkedLength, crc32TrailerName } from '../../functions/destinations/s3/aws-chunked.ts';
import { AwsChunkedDecoder } from '../../infra/local/aws-chunked-decoder.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { takeChunk } from '../../shared/streams/reused-chunks.ts';
import { patternBytes } from '../support/sources.ts';

const MiB = 1024 * 1024;

/** `bytes` as a stream of reads of `readSize` bytes, through the framing; the framed body. */
async function framedBody(bytes: Buffer, readSize: number, announced = bytes.length): Promise<Buffer> {
  const reads = Array.from({ length: Math.ceil(bytes.length / readSize) }, (_, index) => bytes.subarray(index * readSize, (index + 1) * readSize));
  const framed: Buffer[] = [];
  for await (const chunk of Readable.from(reads).pipe(new AwsChunkedCrc32(announced, () => crc32Base64(crc32(bytes))))) framed.push(chunk as Buffer);
  return Buffer.concat(framed);
}

describe('AwsChunkedCrc32', () => {
  it.each([
    ['empty', 0, 1],
    ['one byte', 1, 1],
    ['under a chunk, read in odd sizes', 300_001, 7_777],
    ['exactly two chunks, read in 64 KiB', 2 * MiB, 64 * 1024],
    ['two chunks and a bit, read in one piece', 2 * MiB + 5, 2 * MiB + 5],
    ['three chunks, read across their edges', 3 * MiB - 1, 1_000_003],
  ])('frames %s so that a decoder gets the bytes back, at the length announced, with the CRC-32 of the source as the trailer', async (_case, size, readSize) => {
    const bytes = patternBytes(size, 5);

    const body = await framedBody(bytes, readSize);

    expect(body.length).toBe(awsChunkedLength(size));
    const decoder = new AwsChunkedDecoder();
    const decoded: Buffer[] = [];
    decoder.write(body, (data) => decoded.push(Buffer.from(data)));
    expect(decoder.complete).toBe(true);
    expect(Buffer.concat(decoded)).toEqual(bytes);
    expect(decoder.trailers.get(crc32TrailerName)).toBe(crc32Base64(crc32(bytes)));
  });

  it('sends each chunk as one buffer, framing included, whatever the size of the reads', async () => {
    const bytes = patternBytes(MiB + 10, 6);
    const framed = Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]).pipe(new AwsChunkedCrc32(bytes.length, () => 'AAAAAA=='));
    const pushed: number[] = [];
    // 'data' hands on each pushed buffer as it is (an async iterator would join what is waiting).
    await new Promise((resolve, reject) => framed.on('data', (chunk: Buffer) => pushed.push(chunk.length)).once('end', resolve).once('error', reject));

    expect(pushed).toEqual([`${MiB.toString(16)}\r\n`.length + MiB + 2, 'a\r\n'.length + 10 + 2, `0\r\n${crc32TrailerName}:AAAAAA==\r\n\r\n`.length]);
  });

  it('carries a later whole chunk in one given back once written, its bytes those of the later chunk', async () => {
    const bytes = patternBytes(3 * MiB, 8);
    const framed = Readable.from([bytes]).pipe(new AwsChunkedCrc32(bytes.length, () => 'AAAAAA=='));
    const seen: Buffer[] = [];
    const payloads: Buffer[] = [];
    await new Promise((resolve, reject) =>
      framed
        .on('data', (chunk: Buffer) => {
          seen.push(chunk);
          payloads.push(Buffer.from(chunk));
          AwsChunkedCrc32.reuse(chunk);
        })
        .once('end', resolve)
        .once('error', reject),
    );

    // Each chunk is given back before the next is filled: all three whole chunks are one memory.
    expect(new Set(seen.slice(0, 3)).size).toBe(1);
    const decoder = new AwsChunkedDecoder();
    const decoded: Buffer[] = [];
    decoder.write(Buffer.concat(payloads), (data) => decoded.push(Buffer.from(data)));
    expect(Buffer.concat(decoded)).toEqual(bytes);
  });

  it.each([
    ['fewer bytes than announced', 1000, 1001, /999|1000 of the announced 1001/],
    ['more bytes than announced', 1000, 999, /more than the announced 999/],
  ])('fails on %s, before the final chunk', async (_case, size, announced, message) => {
    const framed = Readable.from([patternBytes(size, 7)]).pipe(new AwsChunkedCrc32(announced, () => 'AAAAAA=='));

    await expect(text(framed)).rejects.toThrow(message);
  });

  it('fails, before the final chunk, when the source has no checksum at its end', async () => {
    const framed = Readable.from([patternBytes(10, 8)]).pipe(new AwsChunkedCrc32(10, () => undefined));

    await expect(text(framed)).rejects.toThrow(/no checksum at its end/);
  });

  it('gives back a chunk the source was read into once it has copied it, so the next read fills it again', async () => {
    const chunk = takeChunk().fill(3);

    const framed = await text(Readable.from([chunk]).pipe(new AwsChunkedCrc32(chunk.length, () => crc32Base64(crc32(chunk)))));

    expect(framed).toContain('\u0003'.repeat(1000));
    // Compared by identity: a failed toBe would print both 256 KiB buffers.
    expect(takeChunk() === chunk).toBe(true);
  });
});
